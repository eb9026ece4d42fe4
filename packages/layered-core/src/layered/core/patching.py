"""`@patch`: add a function to a class as a method (or property) from the annotation of `self`."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

from layered.core.errors import LayeredError

__all__ = ["PatchError", "patch"]


class PatchError(LayeredError, TypeError):
    """`@patch` cannot tell which class to patch, or was given conflicting options."""


def _classes(annotation: Any) -> tuple[type, ...]:
    """The classes an annotation names: a class, a tuple of classes, or a Union of them."""
    if isinstance(annotation, type):
        return (annotation,)
    if isinstance(annotation, tuple):
        parts = annotation
    elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
        parts = typing.get_args(annotation)
    else:
        return ()
    found = tuple(c for a in parts for c in _classes(a))
    return found if len(found) == len(parts) else ()


def _target_classes(f: Callable) -> tuple[type, ...]:
    """The classes named by the annotation of `f`'s first parameter."""
    code = f.__code__
    if code.co_argcount == 0:
        raise PatchError(
            f"@patch: {f.__qualname__} has no positional parameter; annotate its first one with "
            "the class to patch, e.g. (self: MyClass)"
        )
    name = code.co_varnames[0]
    annotation = f.__annotations__.get(name)
    if isinstance(annotation, str):  # postponed annotations (`from __future__ import annotations`)
        try:
            annotation = eval(annotation, f.__globals__)
        except Exception as e:
            raise PatchError(
                f"@patch: cannot resolve the annotation {annotation!r} of {name!r} in {f.__qualname__} "
                f"({type(e).__name__}: {e}); the class must be reachable from the module's globals"
            ) from e
    classes = _classes(annotation)
    if not classes:
        raise PatchError(
            f"@patch: the first parameter {name!r} of {f.__qualname__} needs a class annotation (a class, "
            f"a tuple of classes or a Union of classes), found {annotation!r}"
        )
    return classes


def _copy_for(f: types.FunctionType, cls: type) -> types.FunctionType:
    """A copy of `f` named as if it had been written in the body of `cls`."""
    # a copy per class, so that each patched class gets its own __qualname__
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    g.__kwdefaults__ = f.__kwdefaults__
    g.__dict__.update(f.__dict__)
    g.__annotations__ = dict(f.__annotations__)
    g.__doc__, g.__module__ = f.__doc__, f.__module__
    g.__qualname__ = f"{cls.__qualname__}.{f.__name__}"
    return g


def patch(f: Callable | None = None, *, as_prop: bool = False, cls_method: bool = False) -> Any:
    """Add `f` to the class(es) named by the annotation of its first parameter.

    `@patch def area(self: Rect): ...` makes `Rect.area` a method, `@patch(as_prop=True)` a
    property and `@patch(cls_method=True)` a classmethod (annotate `cls: Rect`). A tuple or
    Union annotation patches every class in it. The added function keeps the name, docstring
    and module of `f`, with `__qualname__` `Rect.area`; `f` itself is returned unchanged.
    """
    if as_prop and cls_method:
        raise PatchError("@patch: choose as_prop=True or cls_method=True, not both")
    if f is None:
        return lambda g: patch(g, as_prop=as_prop, cls_method=cls_method)
    if not isinstance(f, types.FunctionType):
        raise PatchError(f"@patch: expected a function defined with def, found {type(f).__name__} {f!r}")
    for cls in _target_classes(f):
        g = _copy_for(f, cls)
        try:
            setattr(cls, f.__name__, property(g) if as_prop else classmethod(g) if cls_method else g)
        except TypeError as e:  # builtins and other immutable types
            raise PatchError(f"@patch: cannot add {f.__name__!r} to {cls.__qualname__} ({e})") from e
    return f
