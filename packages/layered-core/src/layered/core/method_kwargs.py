"""`funcs_kwargs`: let a class's listed methods be replaced by constructor keywords.

A class lists the names of its replaceable stages in `_methods`:

    @funcs_kwargs
    class Loader:
        _methods = ["after_item"]
        def __init__(self, items): self.items = items
        def after_item(self, x): return x

    Loader(items, after_item=lambda x: x * 2)   # replace one stage by keyword ...

    class Doubling(Loader):                      # ... or by subclassing, as usual
        def after_item(self, x): return x * 2

The keyword is popped before the original `__init__` runs and stored on the instance, so the
class and other instances keep their own method. A subclass may extend `_methods`
(`_methods = [*Loader._methods, "before_batch"]`); the wrapper reads `type(self)._methods`.
"""

from __future__ import annotations

import functools
import types
from typing import Any

from layered.core.errors import LayeredError

__all__ = ["FuncsKwargsError", "funcs_kwargs"]


class FuncsKwargsError(LayeredError, TypeError):
    """`@funcs_kwargs` found no valid `_methods`, or a replacement that is not callable."""


def funcs_kwargs(cls: type | None = None, as_method: bool = False) -> Any:
    """Class decorator: every name in `cls._methods` may be passed to `__init__` to replace that method.

    A replacement is called as given (`f(x)`), or with `as_method=True` bound to the instance
    (`f(self, x)`). Keywords that are not listed reach the original `__init__` unchanged, so it
    can reject them. Use as `@funcs_kwargs` or `@funcs_kwargs(as_method=True)`.
    """
    if cls is None:
        return functools.partial(funcs_kwargs, as_method=as_method)
    methods = getattr(cls, "_methods", None)
    if not isinstance(methods, (list, tuple)) or not all(isinstance(m, str) for m in methods):
        raise FuncsKwargsError(
            f"@funcs_kwargs on {cls.__qualname__}: expected a class attribute _methods, a list of "
            f"method names, found {methods!r}"
        )
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for name in type(self)._methods:
            if name in kwargs:
                f = kwargs.pop(name)
                if not callable(f):
                    raise FuncsKwargsError(
                        f"{type(self).__name__}: {name}= replaces a method, so it must be callable, "
                        f"found {type(f).__name__} {f!r}"
                    )
                setattr(self, name, types.MethodType(f, self) if as_method else f)
        original(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls
