"""`@delegates` (show delegated keyword arguments in a signature) and `GetAttr` (forward attributes)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

__all__ = ["GetAttr", "delegates"]


def delegates(to: Callable | None = None, keep: bool = False, but: tuple | list | str = ()):
    """Decorator: replace `**kwargs` in the signature with the keyword arguments of `to`.

    On a class (with `to=None`), the class's `__init__` shows the keyword arguments of its base
    class's `__init__`. Only `__signature__` changes, never behaviour; `keep=True` keeps
    `**kwargs`; `but` names arguments not to copy.
    """
    excluded = {but} if isinstance(but, str) else set(but)

    def decorate(f):
        if isinstance(f, type):
            target, source = f.__init__, to or f.__base__.__init__
        else:
            target, source = f, to
        if source is None:
            raise TypeError(f"@delegates on {f.__name__}: say where the keyword arguments go (to=...)")
        sig = inspect.signature(target)
        params = dict(sig.parameters)
        var_kw = params.pop("kwargs", None) or next(
            (params.pop(n) for n, p in list(params.items()) if p.kind is p.VAR_KEYWORD), None
        )
        extra = {
            n: p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for n, p in inspect.signature(source).parameters.items()
            if p.default is not p.empty
            and n not in params
            and n not in excluded
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        params.update(extra)
        if keep and var_kw is not None:
            params[var_kw.name] = var_kw
        ordered = sorted(params.values(), key=lambda p: p.kind)
        target.__signature__ = sig.replace(parameters=ordered)
        return f

    return decorate


class GetAttr:
    """Mixin: attributes not found on the object are read from `getattr(self, self._default)`.

    Private names (leading `_`) are never forwarded; `_xtra`, when set, limits forwarding to
    those names.
    """

    _default = "default"
    _xtra: list[str] | None = None

    def __getattr__(self, name: str):
        if name.startswith("_") or name == self._default:
            raise AttributeError(name)
        if self._xtra is not None and name not in self._xtra:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        try:
            target = (
                self.__dict__[self._default]
                if self._default in self.__dict__
                else object.__getattribute__(self, self._default)
            )
        except AttributeError:
            raise AttributeError(name) from None
        return getattr(target, name)

    def __dir__(self):
        target = self.__dict__.get(self._default)
        extra = [n for n in dir(target) if not n.startswith("_")] if target is not None else []
        if self._xtra is not None:
            extra = [n for n in extra if n in self._xtra]
        return sorted(set(super().__dir__()) | set(extra))
