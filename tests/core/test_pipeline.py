import copy
import pickle

import pytest

from layered.core.collection import L
from layered.core.pipeline import Pipeline
from layered.core.transform import Transform, TransformTypeError


class Add(Transform):
    def __init__(self, k, order=0, split_idx=None):
        super().__init__(order=order, split_idx=split_idx)
        self.k = k

    def encodes(self, x: int):
        return x + self.k

    def decodes(self, x: int):
        return x - self.k


class MaxNorm(Transform):
    order = 10

    def setups(self, items):
        self.m = max(items)

    def encodes(self, x: int):
        return x / self.m

    def decodes(self, x: float):
        return round(x * self.m)


class Vocab(Transform):
    def setups(self, items):
        self.vocab = sorted(set(items))

    def encodes(self, x: str):
        return self.vocab.index(x)

    def decodes(self, x: int):
        return Label(self.vocab[x])


class OneHot(Transform):
    order = 1

    def setups(self, items):
        self.c = len(items.vocab)  # read from the earlier transform through the view

    def encodes(self, x: int):
        return [int(i == x) for i in range(self.c)]

    def decodes(self, x: list):
        return x.index(1)


class Label(str):
    def show(self, ctx=None, **kwargs):
        out = f"<{self}>"
        if isinstance(ctx, list):
            ctx.append(out)
            return ctx
        return out


class Counted(Transform):
    """Counts how many items it encodes (to see that setup maps lazily)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def encodes(self, x: int):
        self.calls += 1
        return x * 2


class First(Transform):
    order = 3

    def setups(self, items):
        self.first = items[0]


def double(x):
    return x * 2


def test_transforms_are_sorted_by_order_stably_and_functions_wrapped():
    a, b = Add(1), Add(2)
    p = Pipeline([MaxNorm(), a, double, b])
    assert [f.name for f in p.fs] == ["Add", "double", "Add", "MaxNorm"]
    assert p.fs[0] is a and p[2] is b and len(p) == 4 and isinstance(p.fs, L)
    assert repr(p) == "Pipeline: Add -> double -> Add -> MaxNorm"
    assert repr(Pipeline()) == "Pipeline: (empty)" and Pipeline()(3) == 3
    assert [f.name for f in Pipeline([p, [Add(0), Add(0)]]).fs][-1] == "MaxNorm"  # nested lists flattened


def test_call_in_order_and_decode_in_reverse():
    p = Pipeline([MaxNorm(), Add(1)])
    p.setup([1, 3])  # MaxNorm sees the items after Add: max(2, 4) = 4
    assert p.fs[-1].m == 4
    assert p(3) == 1.0
    assert p.decode(p(3)) == 3
    assert p((3, 7)) == (1.0, 2.0) and p.decode((1.0, 2.0)) == (3, 7)


def test_setup_passes_items_lazily_through_the_earlier_transforms():
    counted, first = Counted(), First()
    p = Pipeline([first, counted])
    p.setup(list(range(1000)))
    assert first.first == 0 and counted.calls == 1  # only the one item setups looked at


def test_setup_view_indexes_slices_iterates_and_exposes_earlier_attributes():
    seen = {}

    class Look(Transform):
        order = 5

        def setups(self, items):
            seen.update(n=len(items), item=items[1], sliced=items[:2], all=list(items), vocab=items.vocab)

    p = Pipeline([Vocab(), Look()])
    p.setup(["b", "a", "c"])
    assert seen == {"n": 3, "item": 0, "sliced": [1, 0], "all": [1, 0, 2], "vocab": ["a", "b", "c"]}

    p = Pipeline([Vocab(), OneHot()])
    p.setup(["b", "a", "b"])
    assert p.fs[1].c == 2 and p("b") == [0, 1]
    assert p.decode(p("b")) == "b" and type(p.decode(p("b"))) is Label


def test_setup_on_the_training_subset_runs_train_only_transforms_before():
    class Data:
        train = [1, 2]

    p = Pipeline([Add(100, split_idx=0), MaxNorm()], split_idx=1)
    p.setup(Data(), train_setup=True)
    assert p.fs[1].m == 102  # items.train, through the training-only Add
    p.setup([1, 2])
    assert p.fs[1].m == 2  # as the validation pipeline: the Add does not run
    assert p(4) == 2.0


def test_split_idx_reaches_every_transform():
    p = Pipeline([Transform(lambda x: x * 10, split_idx=0), Add(1, split_idx=1)], split_idx=1)
    assert p(1) == 2
    p.split_idx = 0
    assert p(1) == 10 and p.decode(10) == 10
    assert Pipeline([Transform(lambda x: x * 10, split_idx=0)])(1) == 1  # no split: only the common ones


def test_add_sets_up_the_new_transform_on_the_composed_items():
    p = Pipeline([Add(1)])
    p.add(MaxNorm(), items=[1, 5])
    assert p.fs[-1].m == 6 and p(5) == 1.0
    p.add(Transform(lambda x: x, lambda x: Label(str(x))))
    assert len(p) == 3 and p[1].name == "<lambda>"  # by order: before MaxNorm
    with pytest.raises(
        TransformTypeError, match=r"Pipeline: the added value is 3 \(int\), expected a Transform"
    ):
        p.add(3)
    with pytest.raises(TransformTypeError, match=r"Pipeline: item 1 is 'x' \(str\)"):
        Pipeline([Add(1), "x"])


def test_decode_full_or_until_showable():
    p = Pipeline([Vocab(), Add(1)])
    p.setup(["a", "b"])
    assert p("b") == 2
    assert type(p.decode(2)) is Label and p.decode(2) == "b"

    class Wrap(Transform):
        order = 2

        def decodes(self, x: int):
            return Label(f"n{x}")

    p = Pipeline([Add(1), Wrap()])
    assert p.decode(3, full=False) == "n3"  # stops once the value can show
    assert p.decode(3) == "n3"  # Add has no decodes for a Label: it passes through


def test_show_decodes_then_shows():
    p = Pipeline([Vocab()])
    p.setup(["x", "y"])
    assert p.show(1) == "<y>"
    assert p.show((0, 1), ctx=[]) == ["<x>", "<y>"]  # each showable element of a tuple, on one ctx
    with pytest.raises(TransformTypeError, match=r"Pipeline\.show: the decoded value is a int"):
        Pipeline([Add(1)]).show(1)


def test_copies_and_pickles_keep_working_on_their_own_transforms():
    p = Pipeline([Add(1), Add(2, split_idx=0)])
    c = copy.copy(p)
    c.split_idx = 0
    assert c(0) == 3 and p(0) == 1  # the original keeps its split
    d = copy.deepcopy(p)
    d.fs[0].k = 10
    assert d(0) == 10 and p(0) == 1
    back = pickle.loads(pickle.dumps(p))
    assert back(0) == 1 and back.decode(1) == 0 and back.split_idx is None


def test_fs_can_be_replaced():
    p = Pipeline([Add(1)])
    p.fs = [Add(5), Add(2, order=-1)]  # sorted again
    assert [f.k for f in p.fs] == [2, 5] and p(0) == 7


def test_a_failing_setup_leaves_the_pipeline_whole():
    class Broken(Transform):
        order = 1

        def setups(self, items):
            raise ValueError("no statistics")

    p = Pipeline([Add(1), Broken(), MaxNorm()])
    with pytest.raises(ValueError, match="no statistics"):
        p.setup([1, 2])
    assert [f.name for f in p.fs] == ["Add", "Broken", "MaxNorm"]
