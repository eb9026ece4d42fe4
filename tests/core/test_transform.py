from collections import namedtuple

import pytest
import torch

from layered.core.tensor import TensorBase
from layered.core.transform import ItemTransform, Transform, TransformTypeError


class TImage(TensorBase):
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


def test_encodes_and_decodes_dispatch_by_type():
    t = Scale()
    t.setup([1, 2, 4])
    assert t(2) == 0.5 and t("a") == "A"
    assert t.decode(0.5) == 2.0
    assert t([1, 2]) == [1, 2]  # no encodes for lists: unchanged (the documented default)


def test_tuples_are_transformed_elementwise_and_item_transforms_see_the_tuple():
    t = Scale()
    t.setup([4])
    assert t((2, "b")) == (0.5, "B")

    class Swap(ItemTransform):
        def encodes(self, x: tuple):
            return x[1], x[0]

    assert Swap()((1, 2)) == (2, 1)


def test_semantic_type_is_kept_unless_the_method_says_otherwise():
    class Double(Transform):
        def encodes(self, x: torch.Tensor):
            return x * 2

    class ToFloat(Transform):
        def encodes(self, x: torch.Tensor) -> torch.Tensor:
            return x.float().as_subclass(torch.Tensor)

    img = TImage(torch.ones(2))
    assert type(Double()(img)) is TImage
    assert type(ToFloat()(img)) is torch.Tensor


def test_subclasses_extend_their_parents_dispatch():
    class MoreScale(Scale):
        def encodes(self, x: bytes):
            return x.decode()

    t = MoreScale()
    t.setup([2])
    assert t(b"z") == "z" and t(1) == 0.5


def test_from_plain_functions():
    t = Transform(lambda x: x + 1, lambda x: x - 1)
    assert t(1) == 2 and t.decode(2) == 1

    def only_str(x: str):
        return x + "!"

    t = Transform(only_str)
    assert t("a") == "a!" and t(1) == 1 and t.name == "only_str"


def test_split_idx_limits_a_transform_to_one_subset():
    t = Transform(lambda x: x * 10, split_idx=0)
    assert t(1, split_idx=0) == 10
    assert t(1, split_idx=1) == 1 and t(1) == 1


def test_strict_transform_rejects_unknown_types_with_a_clear_error():
    class IntsOnly(Transform):
        strict = True

        def encodes(self, x: int):
            return x

    with pytest.raises(
        TransformTypeError, match=r"IntsOnly: no method accepts an input of type str \(it accepts: int\)"
    ):
        IntsOnly()("a")
    assert Transform(lambda x: x, strict=True).strict


def test_namedtuples_keep_their_type_on_decode():
    P = namedtuple("P", "a b")
    t = Transform(lambda x: x, lambda x: x * 2)
    assert t.decode(P(1, 2)) == P(2, 4) and isinstance(t.decode(P(1, 2)), P)


def test_repr_names_the_types():
    assert repr(Scale()) == "Scale: encodes (int, str) decodes (float)"
