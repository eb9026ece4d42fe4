"""`store_attr`: keep a method's arguments as attributes without repeating each name."""

from __future__ import annotations

import inspect

__all__ = ["store_attr"]


def store_attr(names: str | list[str] | None = None, but: str | list[str] = "", self=None, **attrs) -> None:
    """Inside `__init__`, set `self.<arg> = <arg>` for the caller's arguments.

    `names` (comma-separated text or a list) picks which; `but` leaves some out; keyword
    arguments are stored too.
    """
    frame = inspect.currentframe().f_back
    try:
        args = frame.f_locals
        if self is None:
            first = frame.f_code.co_varnames[:1]
            if not first or first[0] not in args:
                raise TypeError("store_attr must be called inside a method, whose first argument is self")
            self = args[first[0]]
        arg_names = frame.f_code.co_varnames[1 : frame.f_code.co_argcount + frame.f_code.co_kwonlyargcount]
        excluded = {n.strip() for n in (but.split(",") if isinstance(but, str) else but) if n.strip()}
        if names is None:
            chosen = [n for n in arg_names if n not in excluded]
        else:
            chosen = [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
            missing = [n for n in chosen if n not in args]
            if missing:
                raise TypeError(f"store_attr: {missing} are not arguments of {frame.f_code.co_name}")
        for n in chosen:
            if n not in excluded:
                setattr(self, n, args[n])
        for k, v in attrs.items():
            setattr(self, k, v)
    finally:
        del frame
