import copy
import inspect
import pickle
from typing import Union

import pytest

from layered.core.attributes import store_attr
from layered.core.delegation import GetAttr, delegates
from layered.core.funcs_kwargs import funcs_kwargs
from layered.core.patch import patch


class Rect:
    def __init__(self, w, h):
        self.w, self.h = w, h


class Circle:
    r = 1


def test_patch_method_property_and_union():
    @patch
    def area(self: Rect):
        """Area."""
        return self.w * self.h

    @patch(as_prop=True)
    def perimeter(self: Rect):
        return 2 * (self.w + self.h)

    @patch
    def kind(self: Union[Rect, Circle]):  # noqa: UP007
        return type(self).__name__

    r = Rect(2, 3)
    assert r.area() == 6 and r.perimeter == 10 and Circle().kind() == "Circle"
    assert Rect.area.__qualname__ == "Rect.area" and Rect.area.__doc__ == "Area."
    with pytest.raises(TypeError, match="needs a class annotation"):

        @patch
        def broken(self):
            return 1


def base(a, b=1, c=2):
    return a + b + c


def test_delegates_signature_shows_delegated_keywords():
    @delegates(base)
    def outer(a, **kwargs):
        return base(a, **kwargs)

    params = inspect.signature(outer).parameters
    assert list(params) == ["a", "b", "c"] and params["c"].default == 2
    assert outer(1, c=10) == 12

    @delegates(base, keep=True, but=["c"])
    def outer2(a, **kwargs):
        return a

    assert list(inspect.signature(outer2).parameters) == ["a", "b", "kwargs"]

    class Base:
        def __init__(self, x=1, y=2):
            self.x = x

    @delegates()
    class Child(Base):
        def __init__(self, z=3, **kwargs):
            super().__init__(**kwargs)

    assert list(inspect.signature(Child).parameters) == ["z", "x", "y"]


@funcs_kwargs
class Stages:
    _methods = ["before", "after"]

    def __init__(self, scale=1):
        self.scale = scale

    def before(self, x):
        return x

    def after(self, x):
        return x * self.scale

    def run(self, x):
        return self.after(self.before(x))


def test_funcs_kwargs_replaces_stages_by_keyword_and_subclass():
    assert Stages(scale=2).run(3) == 6
    assert Stages(before=lambda x: x + 1, scale=2).run(3) == 8
    assert Stages().run(3) == 3  # the class keeps its own method

    class Sub(Stages):
        def before(self, x):
            return -x

    assert Sub(scale=2).run(3) == -6
    with pytest.raises(TypeError, match="unexpected keyword"):
        Stages(nope=1)
    with pytest.raises(TypeError, match="must be callable"):
        Stages(after=3)

    @funcs_kwargs(as_method=True)
    class Bound:
        _methods = ["f"]

        def __init__(self):
            self.v = 5

        def f(self):
            return 0

    assert Bound(f=lambda self: self.v).f() == 5


def test_store_attr():
    class P:
        def __init__(self, a, b, c=3):
            store_attr()

    class Q:
        def __init__(self, a, b, c=3):
            store_attr("a,c", extra=9)

    p = P(1, 2)
    assert (p.a, p.b, p.c) == (1, 2, 3)
    q = Q(1, 2)
    assert q.a == 1 and q.c == 3 and q.extra == 9 and not hasattr(q, "b")


class Holder(GetAttr):
    _default = "inner"

    def __init__(self, inner):
        self.inner = inner


def test_getattr_forwards_and_survives_pickle_and_copy():
    h = Holder([3, 1, 2])
    assert h.count(1) == 1 and "count" in dir(h)
    with pytest.raises(AttributeError):
        h._private
    for clone in (pickle.loads(pickle.dumps(h)), copy.deepcopy(h)):
        assert clone.inner == [3, 1, 2] and clone.index(2) == 2
