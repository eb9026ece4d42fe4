"""`funcs_kwargs`: let a class's listed methods be replaced by constructor keywords."""

from __future__ import annotations

import functools
import types

__all__ = ["funcs_kwargs"]


def funcs_kwargs(cls: type | None = None, as_method: bool = False):
    """Class decorator: every name in `cls._methods` may be passed to `__init__` to replace that method.

    A replacement is stored on the instance, so the class and other instances keep theirs; with
    `as_method=True` it is bound and receives `self`. Subclassing and overriding works as usual,
    and a subclass may extend `_methods`. Keywords that are not listed reach the original
    `__init__` unchanged, so it can reject them.
    """
    if cls is None:
        return functools.partial(funcs_kwargs, as_method=as_method)
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        for name in type(self)._methods:
            if name in kwargs:
                f = kwargs.pop(name)
                if not callable(f):
                    raise TypeError(
                        f"{type(self).__name__}: {name}= must be callable, got {type(f).__name__}"
                    )
                setattr(self, name, types.MethodType(f, self) if as_method else f)
        original(self, *args, **kwargs)

    cls.__init__ = __init__
    if not hasattr(cls, "_methods"):
        cls._methods = []
    return cls
