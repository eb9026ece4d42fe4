import gc
import numbers
import typing
from collections.abc import Sequence, Sized
from typing import Literal, Optional, Union

import pytest

from layered.core import dispatch
from layered.core.dispatch import DispatchError, Explanation, TypeDispatch, typedispatch


def f_int(x: int):
    return "int"


def f_number(x: numbers.Number):
    return "number"


def f_integral(x: numbers.Integral):
    return "integral"


def f_object(x):
    return "object"


def f_int_str(x: int, y: str):
    return "int,str"


def f_int_any(x: int, y):
    return "int,any"


def f_number_str(x: numbers.Number, y: str):
    return "number,str"


def f_union(x: Union[str, bytes]):  # noqa: UP007 - typing.Union is what we test
    return "str|bytes"


def f_pipe_union(x: list | dict):
    return "list|dict"


def f_tuple(x: (set, frozenset)):
    return "set|frozenset"


def f_optional(x: Optional[float]):  # noqa: UP045 - typing.Optional is what we test
    return "float|None"


def f_generic(x: list[int]):
    return "list[int]"


def f_postponed(x: "int", y: "(str, bytes)") -> "float":  # string (postponed) annotations
    return 1.0


class Base:
    pass


class Child(Base):
    pass


class GrandChild(Child):
    pass


def on_base(x: Base):
    return "base"


def on_child(x: Child):
    return "child"


def test_most_specific_match_by_mro():
    td = TypeDispatch([f_object, on_base, on_child])
    assert td(GrandChild()) == "child"
    assert td(Child()) == "child"
    assert td(Base()) == "base"
    assert td(3) == "object"  # object is the catch-all
    # the registration order does not matter when the specificity differs
    assert TypeDispatch([on_child, on_base, f_object])(GrandChild()) == "child"


def test_abcs_rank_after_concrete_classes_and_by_their_own_depth():
    td = TypeDispatch([f_object, f_number, f_integral])
    assert td(3) == "integral"  # Integral is more derived than Number
    assert td(2.5) == "number"
    assert TypeDispatch([f_integral, f_number])(3) == "integral"  # in either order
    td.add(f_int)
    assert td(3) == "int" and td(True) == "int"  # the concrete class beats the ABC; bool is an int


def test_missing_annotation_means_object():
    td = TypeDispatch([f_object])
    assert td.entries[0][:2] == (object, object)
    assert td(None) == "object" and td([1]) == "object"


def test_unions_tuples_optional_and_generics():
    td = TypeDispatch([f_union, f_pipe_union, f_tuple, f_optional, f_generic])
    assert td("x") == td(b"x") == "str|bytes"
    assert td({}) == "list|dict"
    assert td({1}) == td(frozenset()) == "set|frozenset"
    assert td(1.5) == td(None) == "float|None"
    assert td([1]) == "list[int]"  # later registration wins the tie with list | dict
    assert td[dict] is f_pipe_union and td[int] is None


def test_postponed_string_annotations_are_resolved():
    td = TypeDispatch(f_postponed)
    assert {(a, b) for a, b, _, _ in td.entries} == {(int, str), (int, bytes)}
    assert td.return_type(f_postponed) is float and td.return_type(f_postponed) is float
    assert td(1, b"b") == 1.0


def test_two_arguments_first_argument_decides_first():
    td = TypeDispatch([f_number_str, f_int_any, f_int_str])
    assert td(1, "a") == "int,str"
    assert td(1, 2) == "int,any"
    assert td(1.5, "a") == "number,str"
    # int beats Number on argument 1 even though str beats object on argument 2
    assert TypeDispatch([f_int_any, f_number_str])(1, "a") == "int,any"
    assert td[int, str] is f_int_str and td[float, str] is f_number_str and td[float, int] is None


def test_later_registration_wins_a_tie():
    def first(x: int):
        return "first"

    def second(x: int):
        return "second"

    assert TypeDispatch([first, second])(1) == "second"
    assert TypeDispatch([second, first])(1) == "first"


def test_cache_is_used_and_invalidated_by_a_registration():
    td = TypeDispatch([f_number])
    assert td(3) == "number"
    assert td._cache[int, dispatch._Missing] is f_number  # the lookup was cached
    td.add(f_object)
    assert not td._cache  # a registration empties it
    assert td(3) == "number"
    td.add(f_int)
    assert td(3) == "int" and td.lookup(int) is f_int


def test_listeners_are_cleared_on_registration_and_held_weakly():
    class Cache:
        def __init__(self):
            self.data = {"a": 1}

        def clear(self):
            self.data.clear()

    td = TypeDispatch([f_int])
    cache = Cache()
    td.add_listener(cache)
    td.add(f_object)
    assert cache.data == {}
    del cache
    gc.collect()
    assert len(td._listeners) == 0


def test_no_match_raises_a_type_error_naming_the_function_and_types():
    td = TypeDispatch([f_int], name="describe")
    with pytest.raises(DispatchError, match=r"describe: no implementation accepts argument types \(str\)"):
        td("a")
    with pytest.raises(TypeError, match=r"registered: \(int,object\) -> f_int"):
        td("a")


def test_default_is_called_when_nothing_matches():
    td = TypeDispatch([f_int], default=lambda *args: ("default", args))
    assert td("a", 2) == ("default", ("a", 2))
    assert td(1) == "int"


def test_explain_says_which_one_is_picked_and_why_others_are_skipped():
    td = TypeDispatch([f_object, f_number, f_int, f_union], name="describe")
    text = td.explain(2.5)
    assert isinstance(text, Explanation) and repr(text) == str(text)
    lines = text.splitlines()
    assert lines[0] == (
        "describe(float) calls f_number registered for (Number, object): the most specific match"
    )
    assert "  skips f_object (object, object): less specific than Number for argument 1" in lines
    assert "  skips f_int (int, object): float is not a int (argument 1)" in lines
    assert "  skips f_union (str, object): float is not a str (argument 1)" in lines
    assert len(lines) == 5


def test_explain_second_argument_ties_and_no_match():
    def late(x: int, y: str):
        return "late"

    td = TypeDispatch([f_int_any, f_int_str, late], name="g")
    lines = td.explain(1, "a").splitlines()
    assert lines[0].startswith(
        "g(int, str) calls test_explain_second_argument_ties_and_no_match.<locals>.late"
    )
    assert "  skips f_int_any (int, object): less specific than str for argument 2" in lines
    assert (
        "  skips f_int_str (int, str): as specific, but registered earlier (the later registration wins)"
        in lines
    )
    assert "  skips f_int_str (int, str): str is not a str" not in lines
    assert td.explain(1.5).splitlines()[0] == "g(float): no implementation matches, so the call raises"
    assert "(argument 1)" in td.explain(1.5)


class Shape:
    """A class whose method dispatches on the argument after self."""

    def __init__(self, scale):
        self.scale = scale

    area = TypeDispatch(skip_self=True, name="area")

    @area.register
    def _area_int(self, x: int):
        return ("int", self.scale * x)

    @area.register
    def _area_str(self, x: str):
        return ("str", self.scale)

    @typedispatch
    def describe(self, x: int):
        return f"int {self.scale}"

    @typedispatch
    def describe(self, x: Sized):  # noqa: F811 - several implementations, dispatched by type
        return f"sized {len(x)}"


def test_a_dispatch_on_a_class_binds_the_instance():
    s = Shape(10)
    assert s.area(3) == ("int", 30) and s.area("a") == ("str", 10)
    assert Shape.area is Shape.__dict__["area"]  # unbound on the class: the dispatch itself
    assert Shape.area(s, 2) == ("int", 20)  # called with the instance explicitly
    assert len(s.area) == 2 and s.area.lookup(int) is Shape._area_int  # the dispatch's own API
    assert s.area.explain(3).startswith("area(int) calls Shape._area_int")
    with pytest.raises(DispatchError, match=r"area: no implementation accepts argument types \(float\)"):
        s.area(1.5)


def test_typedispatch_in_a_class_body_makes_a_method():
    s = Shape(2)
    assert s.describe(1) == "int 2" and s.describe([1, 2, 3]) == "sized 3"
    assert isinstance(Shape.describe, TypeDispatch) and Shape.describe.skip_self


def test_typedispatch_collects_module_level_definitions_by_name():
    @typedispatch
    def _layered_test_show(x: int):
        return "int"

    @typedispatch
    def _layered_test_show(x: Sequence):
        return "sequence"

    assert _layered_test_show(1) == "int" and _layered_test_show([1]) == "sequence"
    assert len(_layered_test_show) == 2 and not _layered_test_show.skip_self
    with pytest.raises(TypeError, match="_layered_test_show: no implementation"):
        _layered_test_show(1.5)


def test_nested_functions_of_different_scopes_stay_apart():
    def make(kind):
        @typedispatch
        def same_name(x: int):
            return kind

        return same_name

    a = make("a")
    assert a(1) == "a"
    assert "test_nested_functions_of_different_scopes_stay_apart" not in repr(a)  # named by its own name
    assert a.name == "same_name"


def test_annotations_that_cannot_be_dispatched_on_are_rejected_clearly():
    def literal(x: Literal[1]):
        return x

    def typevar(x: typing.TypeVar("T")):
        return x

    def unknown(x: "NoSuchClass"):  # noqa: F821 - the unresolvable name is the test
        return x

    with pytest.raises(DispatchError, match=r"literal, parameter x: cannot dispatch on the annotation"):
        TypeDispatch(literal)
    with pytest.raises(DispatchError, match="cannot dispatch on the annotation"):
        TypeDispatch(typevar)
    with pytest.raises(
        DispatchError, match=r"unknown, parameter x: cannot resolve the annotation 'NoSuchClass'"
    ):
        TypeDispatch(unknown)
    with pytest.raises(DispatchError, match="cannot register 3"):
        TypeDispatch().add(3)


def test_builtins_without_signature_and_repr():
    td = TypeDispatch([f_int, len], name="h")
    assert td([1, 2]) == 2 and td(1) == "int"
    assert repr(td) == "h: (int,object) -> f_int, (object,object) -> len"
    assert repr(TypeDispatch(name="empty")) == "empty: (nothing registered)"


def test_a_second_parameter_not_passed_does_not_block_dispatch():
    # a function of (x, size=None) called with one argument must still run, not fall through
    annotated = TypeDispatch(default=lambda *args: "default")

    def scale(x: int, size: tuple | None = None):
        return x * (size[0] if size else 2)

    annotated.add(scale)
    assert annotated(3) == 6 and annotated(3, (5,)) == 15
    assert annotated(3, "a") == "default"  # a passed argument of the wrong type still does not match
    assert annotated.explain(3).startswith("scale(int) calls ")


def test_one_argument_prefers_the_implementation_without_a_second_annotation():
    td = TypeDispatch()

    def plain(x: int):
        return "plain"

    def pair(x: int, y: str = ""):
        return "pair"

    td.add(plain)
    td.add(pair)
    assert td(1) == "plain" and td(1, "s") == "pair"


class _Scaler:
    """A callable object whose `__call__` is annotated with names from this module."""

    def __call__(self, x: typing.Any, factor: numbers.Number = 2):
        return x * factor


def test_a_callable_object_with_annotations_resolves_them_in_its_module():
    td = TypeDispatch()
    td.add(_Scaler())
    assert td(4) == 8


def test_a_return_annotation_of_any_names_no_class():
    td = TypeDispatch()

    def f(x: int) -> typing.Any:
        return x

    td.add(f)
    assert td.return_type(f) is None
