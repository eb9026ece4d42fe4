from typing import Union

import pytest

from layered.core.errors import LayeredError
from layered.core.patching import PatchError, patch


class Rect:
    def __init__(self, w, h):
        self.w, self.h = w, h


class Square(Rect):
    def __init__(self, s):
        super().__init__(s, s)


class Circle:
    def __init__(self, r):
        self.r = r


class Outer:
    class Inner:
        pass


def test_patch_adds_a_method_named_as_if_written_in_the_class():
    @patch
    def area(self: Rect, scale: int = 1, *, offset: int = 0) -> int:
        """Width times height."""
        return self.w * self.h * scale + offset

    assert Rect(2, 3).area() == 6 and Rect(2, 3).area(2, offset=1) == 13
    assert Square(3).area() == 9  # inherited like any method
    method = Rect.__dict__["area"]
    assert method is not area  # a copy carries the class's qualified name
    assert method.__qualname__ == "Rect.area" and method.__name__ == "area"
    assert method.__doc__ == "Width times height." and method.__module__ == __name__
    assert method.__defaults__ == (1,) and method.__kwdefaults__ == {"offset": 0}
    assert method.__annotations__["return"] is int
    assert area.__qualname__.endswith("<locals>.area")  # the decorated function is returned unchanged
    assert area(Rect(1, 1)) == 1


def test_patch_as_property():
    @patch(as_prop=True)
    def perimeter(self: Rect):
        """Sum of the sides."""
        return 2 * (self.w + self.h)

    assert Rect(2, 3).perimeter == 10
    prop = Rect.__dict__["perimeter"]
    assert isinstance(prop, property) and prop.__doc__ == "Sum of the sides."
    assert prop.fget.__qualname__ == "Rect.perimeter"


def test_patch_as_classmethod():
    @patch(cls_method=True)
    def unit(cls: Rect):
        return cls(1, 1)

    r = Rect.unit()
    assert type(r) is Rect and (r.w, r.h) == (1, 1)
    assert isinstance(Rect.__dict__["unit"], classmethod)


def test_patch_union_and_tuple_patch_every_class():
    @patch
    def kind(self: Union[Rect, Circle]):  # noqa: UP007 - the typing.Union spelling must work too
        return type(self).__name__

    @patch
    def size(self: Rect | Circle):
        return 1

    @patch
    def shape(self: (Rect, Circle)):
        return "shape"

    assert Rect(1, 1).kind() == "Rect" and Circle(1).kind() == "Circle"
    assert Rect(1, 1).size() == Circle(1).size() == 1
    assert Rect(1, 1).shape() == Circle(2).shape() == "shape"
    assert Rect.kind.__qualname__ == "Rect.kind" and Circle.kind.__qualname__ == "Circle.kind"


def test_patch_nested_class_and_string_annotation():
    @patch
    def hello(self: Outer.Inner):
        return "hi"

    @patch
    def radius(self: "Circle"):
        return self.r

    assert Outer.Inner().hello() == "hi" and Outer.Inner.hello.__qualname__ == "Outer.Inner.hello"
    assert Circle(4).radius() == 4


def test_patch_keeps_closures():
    factor = 3

    @patch
    def scaled(self: Circle):
        return self.r * factor

    assert Circle(2).scaled() == 6


def test_patch_errors_name_the_function_and_what_was_expected():
    with pytest.raises(PatchError, match=r"first parameter 'self' of .*broken needs a class annotation"):

        @patch
        def broken(self):
            return 1

    with pytest.raises(PatchError, match=r"needs a class annotation.*found 3"):

        @patch
        def odd(self: 3):
            return 1

    with pytest.raises(PatchError, match="cannot add 'frozen' to int"):

        @patch
        def frozen(self: int):
            return 1

    with pytest.raises(PatchError, match="has no positional parameter"):

        @patch
        def nothing(*, x: Rect):
            return 1

    with pytest.raises(PatchError, match=r"cannot resolve the annotation 'Nowhere'.*NameError"):

        @patch
        def lost(self: "Nowhere"):  # noqa: F821 - unresolvable on purpose
            return 1

    with pytest.raises(PatchError, match="not both"):
        patch(as_prop=True, cls_method=True)
    with pytest.raises(PatchError, match="expected a function defined with def, found builtin_function"):
        patch(len)
    with pytest.raises(PatchError) as info:
        patch(lambda: 1)
    err = info.value
    assert isinstance(err, TypeError) and isinstance(err, LayeredError)
    assert not hasattr(Rect, "broken") and not hasattr(Rect, "lost")
