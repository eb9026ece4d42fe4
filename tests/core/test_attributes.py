import pytest

from layered.core.attributes import StoreAttrError, store_attr
from layered.core.errors import LayeredError


class All:
    def __init__(self, a, b, /, c=3, *args, d=4, **kwargs):
        store_attr()


class Some:
    def __init__(self, a, b, c=3):
        store_attr("a, c", extra=9)


class Listed:
    def __init__(self, a, b, c=3):
        total = a + b  # noqa: F841 - store_attr reads it from this frame
        store_attr(["b", "total"])


class Excluding:
    def __init__(self, a, b, c=3):
        store_attr(but="a,c")


class Modified:
    def __init__(self, a, b=None):
        b = [] if b is None else b
        store_attr(but=["a"])


def test_stores_every_argument_but_self_and_varargs():
    o = All(1, 2, 5, 6, d=7, e=8)
    assert vars(o) == {"a": 1, "b": 2, "c": 5, "d": 7}


def test_names_as_text_or_list_and_extra_keywords():
    s = Some(1, 2)
    assert vars(s) == {"a": 1, "c": 3, "extra": 9}
    assert vars(Listed(1, 2)) == {"b": 2, "total": 3}  # a local variable may be named


def test_but_excludes_and_current_values_are_stored():
    assert vars(Excluding(1, 2)) == {"b": 2}
    assert vars(Modified(1)) == {"b": []}


def test_explicit_self_stores_on_another_object():
    class Target:
        pass

    def configure(target, lr, wd=0.0):
        store_attr(self=target)

    t = Target()
    configure(t, 0.1)
    assert vars(t) == {"lr": 0.1, "wd": 0.0}

    class Owner:
        def __init__(self, size):
            self.child = Target()
            store_attr(self=self.child)

    o = Owner(5)
    assert vars(o.child) == {"size": 5} and not hasattr(o, "size")


def test_errors_outside_a_method_and_for_unknown_names():
    def no_arguments():
        store_attr()

    with pytest.raises(StoreAttrError, match="called from no_arguments, which has no first argument"):
        no_arguments()
    with pytest.raises(StoreAttrError, match="called from <module>"):
        exec("store_attr()", {"store_attr": store_attr})

    class Typo:
        def __init__(self, a, b):
            store_attr("a, bb, cc")

    with pytest.raises(StoreAttrError) as info:
        Typo(1, 2)
    err = info.value
    assert str(err) == "store_attr: bb, cc not found in __init__, whose arguments are a, b"
    assert isinstance(err, TypeError) and isinstance(err, LayeredError)
