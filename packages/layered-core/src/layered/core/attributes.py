"""`store_attr`: keep a method's arguments as attributes without repeating each name."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from layered.core.errors import LayeredError

__all__ = ["StoreAttrError", "store_attr"]


class StoreAttrError(LayeredError, TypeError):
    """`store_attr` was called outside a method or asked for names its caller does not have."""


def _names(names: str | Iterable[str]) -> list[str]:
    parts = names.split(",") if isinstance(names, str) else names
    return [n.strip() for n in parts if n.strip()]


def store_attr(
    names: str | Iterable[str] | None = None, but: str | Iterable[str] = "", self: Any = None, **attrs: Any
) -> None:
    """Inside a method such as `__init__`, set `self.<arg> = <arg>` for the caller's arguments.

    Every argument of the calling function (its `*args`/`**kwargs` aside) is stored, or only
    those in `names` (a list, or comma-separated text; a local variable may be named too); `but`
    leaves some out. `self` defaults to the caller's first argument; neither it nor an argument
    named `self` is stored. Extra keyword arguments are stored as they are.
    """
    frame = inspect.currentframe().f_back
    try:
        code, local = frame.f_code, frame.f_locals
        arg_names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        if self is None:
            if not arg_names or arg_names[0] not in local:
                raise StoreAttrError(
                    f"store_attr: called from {code.co_name}, which has no first argument to store "
                    "attributes on; call it inside a method (such as __init__) or pass self="
                )
            self = local[arg_names[0]]
        # neither the caller's `self` nor the argument holding the target is stored on the target
        available = [n for n in arg_names if n != "self" and n in local and local[n] is not self]
        if names is None:
            chosen = available
        else:
            chosen = _names(names)
            missing = [n for n in chosen if n not in local]
            if missing:
                raise StoreAttrError(
                    f"store_attr: {', '.join(missing)} not found in {code.co_name}, whose arguments "
                    f"are {', '.join(available) or 'none'}"
                )
        excluded = set(_names(but))
        for n in chosen:
            if n not in excluded:
                setattr(self, n, local[n])
        for k, v in attrs.items():
            setattr(self, k, v)
    finally:
        del frame  # a frame kept alive in a local would keep every local of the caller alive
