"""`@patch`: add a function to a class as a method (or property) from the annotation of `self`."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable

__all__ = ["patch"]


def _classes(annotation) -> tuple[type, ...]:
    if isinstance(annotation, type):
        return (annotation,)
    if isinstance(annotation, tuple):
        return tuple(c for a in annotation for c in _classes(a))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(c for a in typing.get_args(annotation) for c in _classes(a))
    return ()


def patch(f: Callable | None = None, *, as_prop: bool = False, cls_method: bool = False):
    """Add `f` to the class(es) named by the annotation of its first parameter.

    `@patch def area(self: Rect): ...` makes `Rect.area` a method; `@patch(as_prop=True)` a
    property; `@patch(cls_method=True)` a classmethod. A `Union` or tuple annotation patches each
    class. Returns `f` unchanged.
    """
    if f is None:
        return lambda g: patch(g, as_prop=as_prop, cls_method=cls_method)
    params = list(inspect.signature(f).parameters.values())
    hints = typing.get_type_hints(f) if params else {}
    classes = _classes(hints.get(params[0].name)) if params else ()
    if not classes:
        raise TypeError(
            f"@patch: the first parameter of {f.__name__} needs a class annotation, e.g. (self: MyClass)"
        )
    for cls in classes:
        g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
        g.__kwdefaults__, g.__doc__, g.__dict__ = f.__kwdefaults__, f.__doc__, dict(f.__dict__)
        g.__annotations__, g.__module__ = dict(f.__annotations__), f.__module__
        g.__qualname__ = f"{cls.__name__}.{f.__name__}"
        value = property(g) if as_prop else classmethod(g) if cls_method else g
        setattr(cls, f.__name__, value)
    return f
