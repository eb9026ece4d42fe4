import numbers
from collections.abc import Sequence
from typing import Union

import pytest

from layered.core.dispatch import DispatchError, TypeDispatch, typedispatch


def f_int(x: int):
    return "int"


def f_number(x: numbers.Number):
    return "number"


def f_object(x):
    return "object"


def f_int_str(x: int, y: str):
    return "int,str"


def f_int_any(x: int, y):
    return "int,any"


def f_union(x: Union[str, bytes]):  # noqa: UP007 - typing.Union is what we test
    return "str|bytes"


def f_tuple(x: (list, tuple)):
    return "list|tuple"


def test_most_specific_match_by_mro_and_abcs():
    td = TypeDispatch([f_object, f_number, f_int])
    assert td(1) == "int"
    assert td(True) == "int"  # bool is an int
    assert td(1.5) == "number"  # via the numbers ABC
    assert td("s") == "object"


def test_second_argument_and_unions_and_tuples():
    td = TypeDispatch([f_int_any, f_int_str, f_union, f_tuple])
    assert td(1, "a") == "int,str"
    assert td(1, 2) == "int,any"
    assert td(b"x") == "str|bytes" and td("x") == "str|bytes"
    assert td([1]) == "list|tuple" and td((1,)) == "list|tuple"


def test_later_registration_wins_on_a_tie_and_cache_is_invalidated():
    td = TypeDispatch([f_int])
    assert td(3) == "int"
    td.add(lambda x: "late")  # object: less specific, does not win
    assert td(3) == "int"

    def again(x: int):
        return "again"

    td.add(again)
    assert td(3) == "again"


def test_no_match_is_a_clear_error():
    td = TypeDispatch([f_int], name="describe")
    with pytest.raises(
        DispatchError, match=r"describe: no implementation for argument types \(str, object\)"
    ):
        td("a")


def test_explain_says_why():
    td = TypeDispatch([f_object, f_number, f_int, f_union])
    text = td.explain(2.5)
    assert "picks f_number(Number" in text
    assert "skips f_int(int, object): float is not a int" in text
    assert "skips f_object(object, object): matches, but less specific" in text


def test_typedispatch_collects_implementations_across_definitions():
    @typedispatch
    def _layered_test_show(x: int):
        return "int"

    @typedispatch
    def _layered_test_show(x: Sequence):
        return "sequence"

    assert _layered_test_show(1) == "int" and _layered_test_show([1]) == "sequence"
    assert len(_layered_test_show) == 2
