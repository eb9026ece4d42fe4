import pytest

from layered.core.pipeline import Pipeline
from layered.core.transform import Transform


class Add(Transform):
    def __init__(self, k, order=0):
        super().__init__(order=order)
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


class Label(str):
    def show(self, ctx=None):
        return f"<{self}>"


def test_order_call_and_decode_in_reverse():
    p = Pipeline([MaxNorm(), Add(1), lambda x: x])
    assert [type(f).__name__ for f in p.fs] == ["Add", "Transform", "MaxNorm"]
    p.setup([1, 3])  # MaxNorm sees the items after Add: max(2, 4) = 4
    assert p.fs[-1].m == 4
    assert p(3) == 1.0
    assert p.decode(p(3)) == 3


def test_split_idx_reaches_every_transform():
    p = Pipeline([Transform(lambda x: x * 10, split_idx=0)], split_idx=1)
    assert p(1) == 1
    p.split_idx = 0
    assert p(1) == 10


def test_add_and_show_and_repr():
    p = Pipeline([Add(1)])
    p.add(Transform(lambda x: x, lambda x: Label(str(x))))
    assert len(p) == 2 and p[1].name == "<lambda>"
    assert p.show(5) == "<5>"
    assert repr(p) == "Pipeline: Add -> <lambda>"
    with pytest.raises(TypeError, match="no show method"):
        Pipeline([Add(1)]).show(1)
