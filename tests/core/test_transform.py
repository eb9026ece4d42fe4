import copy
import pickle
from collections import namedtuple

import pytest
import torch

from layered.core.dispatch import TypeDispatch
from layered.core.tensor_types import TensorBase
from layered.core.transform import DisplayedTransform, ItemTransform, Transform, TransformTypeError, noop


class TImage(TensorBase):
    pass


class TMask(TensorBase):
    pass


class Label(str):
    pass


class Scale(Transform):
    def setups(self, items):
        self.m = max(items)

    def encodes(self, x: int):
        return x / self.m

    def encodes(self, x: str):  # noqa: F811 - several encodes, dispatched by type
        return x.upper()

    def decodes(self, x: float):
        return x * self.m


class MoreScale(Scale):
    def encodes(self, x: bytes):
        return x.decode()

    def encodes(self, x: int):  # noqa: F811 - overrides the parent's int case
        return -x


def scaled(m: int) -> Scale:
    t = Scale()
    t.setup([m])
    return t


def test_encodes_and_decodes_dispatch_by_type():
    t = scaled(4)
    assert t(2) == 0.5 and t("a") == "A"
    assert t.decode(0.5) == 2.0 and t.decode("a") == "a"


def test_an_input_no_encodes_accepts_is_returned_unchanged():
    t = scaled(4)
    items = [1, 2]
    assert t(items) is items and t(1.5) == 1.5 and t(None) is None


def test_tuples_are_split_one_level_lists_and_tuple_subclasses_are_not():
    t = scaled(4)
    assert t((2, "b")) == (0.5, "B") and type(t((2, "b"))) is tuple
    assert t(((2, 4), 4)) == ((2, 4), 1.0)  # the inner tuple is one value, with no encodes
    P = namedtuple("P", "a b")
    assert t(P(2, 4)) == P(2, 4)  # a named tuple is one value
    assert t.decode((0.5, 1.0, "x")) == (2.0, 4.0, "x")


def test_item_transforms_see_the_whole_tuple():
    class Swap(ItemTransform):
        def encodes(self, x: tuple):
            return x[1], x[0]

        def decodes(self, x: tuple):
            return x[1], x[0]

    s = Swap()
    assert s((1, 2)) == (2, 1) and s.decode((2, 1)) == (1, 2)
    assert s(5) == 5


def test_a_result_keeps_the_semantic_type_of_the_input():
    class Double(Transform):
        def encodes(self, x: torch.Tensor):
            return x.as_subclass(torch.Tensor) * 2  # a plain tensor comes back ...

    img = TImage(torch.ones(2), img_size=3)
    out = Double()(img)
    assert type(out) is TImage and out.tolist() == [2.0, 2.0]  # ... cast back to the input's type
    assert type(Double()(torch.ones(1))) is torch.Tensor

    class Shout(Transform):
        def encodes(self, x: str):
            return x.upper()

    assert type(Shout()(Label("a"))) is Label and Shout()(Label("a")) == "A"


def test_a_return_annotation_or_an_unrelated_result_type_wins():
    class ToMask(Transform):
        def encodes(self, x: TImage) -> TMask:
            return x > 0

        def decodes(self, x: TMask) -> torch.Tensor:
            return x

    class Describe(Transform):
        def encodes(self, x: torch.Tensor):
            return f"{len(x)} values"

    img = TImage(torch.tensor([1.0, -1.0]))
    mask = ToMask()(img)
    assert type(mask) is TMask and mask.tolist() == [True, False]
    assert type(ToMask().decode(mask)) is torch.Tensor  # the annotation strips the semantic type
    assert Describe()(img) == "2 values"


def test_subclasses_extend_their_parents_dispatch_without_changing_it():
    t = MoreScale()
    t.setup([2])
    assert t(b"z") == "z" and t(3) == -3 and t("a") == "A" and t.decode(1.0) == 2.0
    assert scaled(2)(b"z") == b"z" and scaled(2)(3) == 1.5
    assert [f.__qualname__ for f in MoreScale.encodes.funcs] == [
        "Scale.encodes",
        "Scale.encodes",
        "MoreScale.encodes",
        "MoreScale.encodes",
    ]
    assert MoreScale.decodes is Scale.decodes  # nothing redefined: the parent's own dispatch


def test_a_transform_of_plain_functions():
    t = Transform(lambda x: x + 1, lambda x: x - 1)
    assert t(1) == 2 and t.decode(2) == 1 and t.name == "<lambda>"

    def only_str(x: str):
        return x + "!"

    t = Transform(only_str)
    assert t("a") == "a!" and t(1) == 1 and t.decode("a") == "a" and t.name == "only_str"
    assert t.encodes("b") == "b!" and t.encodes.lookup(int) is None
    both = TypeDispatch([only_str, lambda x: x * 2])  # an existing dispatch is used as it is
    t = Transform(both)
    assert t.encodes is both and t("a") == "a!" and t(2) == 4 and t.name == "only_str"
    with pytest.raises(TransformTypeError, match="Transform: enc is 3, expected a function"):
        Transform(3)


def test_order_and_split_idx():
    t = Transform(lambda x: x * 10, split_idx=0, order=5)
    assert t.order == 5 and Transform().order == 0
    assert t(1, split_idx=0) == 10
    assert t(1, split_idx=1) == 1 and t(1) == 1
    assert t.decode(3, split_idx=1) == 3
    assert Transform(lambda x: x * 10)(1, split_idx=1) == 10  # None: runs on every subset
    with pytest.raises(TransformTypeError, match="split_idx is 'train', expected an int or None"):
        Transform(noop, split_idx="train")


def test_strict_transforms_raise_naming_the_transform_and_type():
    class IntsOnly(Transform):
        strict = True

        def encodes(self, x: int):
            return x

        def encodes(self, x: bool):  # noqa: F811 - several encodes, dispatched by type
            return x

    with pytest.raises(
        TransformTypeError,
        match=r"IntsOnly: no encodes accepts an input of type str \(it accepts: bool, int\)",
    ):
        IntsOnly()("a")
    with pytest.raises(TypeError, match="type float"):
        IntsOnly()((1, 2.5))
    assert IntsOnly().decode("a") == "a"  # decodes always pass unknown types through
    loose = IntsOnly(strict=False)
    assert loose("a") == "a"

    def only_int(x: int):
        return x

    with pytest.raises(TransformTypeError, match=r"only_int: no encodes accepts an input of type str"):
        Transform(only_int, strict=True)("a")


def test_setup_runs_setups_on_the_items_or_their_training_subset():
    class Items:
        def __init__(self, all_, train):
            self.all, self.train = all_, train

        def __iter__(self):
            return iter(self.all)

    t = Scale()
    t.setup([1, 5, 2])
    assert t.m == 5
    t.setup(Items([1, 9], train=[3]), train_setup=True)
    assert t.m == 3
    t.setup(Items([1, 9], train=[3]))
    assert t.m == 9
    Transform(noop).setup([1])  # no setups: nothing happens
    assert len(Transform.setups) == 0 and len(Scale.setups) == 1


def test_methods_are_bound_dispatches():
    t = scaled(2)
    assert t.encodes(4) == 2.0 and t.encodes([1]) == [1]  # the default passes through
    assert t.encodes.lookup(int) is Scale.encodes.lookup(int)
    assert t.encodes.explain(3).startswith("encodes(int) calls Scale.encodes")
    assert isinstance(Scale.encodes, TypeDispatch) and Scale.encodes.skip_self


def test_registering_later_reaches_existing_instances():
    class Later(Transform):
        def encodes(self, x: int):
            return x + 1

    t = Later()
    assert t(1.5) == 1.5  # cached: no match for float

    def on_float(self, x: float):
        return x * 2

    Later.encodes.add(on_float)
    assert t(1.5) == 3.0
    t.encodes = TypeDispatch(lambda x: "replaced")
    assert t(1) == "replaced"


def test_copies_use_their_own_state():
    t = scaled(2)
    assert t(4) == 2.0
    c = copy.copy(t)
    c.m = 4
    assert c(4) == 1.0 and t(4) == 2.0
    d = copy.deepcopy(t)
    d.m = 8
    assert d(4) == 0.5 and t(4) == 2.0
    back = pickle.loads(pickle.dumps(t))
    assert back(4) == 2.0 and back.decode(1.0) == 2.0


def test_name_and_repr():
    assert repr(Scale()) == (
        "Scale: (int,object) -> encodes, (str,object) -> encodes; decodes: (float,object) -> decodes"
    )
    assert repr(Transform()) == "Transform: (no encodes)"
    t = Transform(noop)
    t.name = "identity"
    assert repr(t) == "identity: (object,object) -> noop"

    class Resize(DisplayedTransform):
        def __init__(self, size):
            super().__init__()
            self.size = size

    assert repr(Resize(4)) == "Resize(size=4)"


def test_noop():
    assert noop(3) == 3 and noop() is None and noop(1, 2, k=3) == 1


def test_a_class_made_without_a_class_statement():
    Made = type(Transform)("Made", (Transform,), {"encodes": lambda self, x: x * 3})
    assert Made()(2) == 6
