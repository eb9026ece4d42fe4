"""`@delegates` (show delegated keyword arguments in a signature) and `GetAttr` (forward attributes)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable
from typing import Any

from layered.core.errors import LayeredError

__all__ = ["DelegationError", "GetAttr", "delegates"]

_DELEGABLE = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class DelegationError(LayeredError, TypeError):
    """`@delegates` was applied where there is no `**kwargs` to replace or no source to copy from."""


def _names(but: str | Iterable[str] | None) -> set[str]:
    if but is None:
        return set()
    parts = but.split(",") if isinstance(but, str) else but
    return {n.strip() for n in parts if n.strip()}


def _delegated_signature(
    target: Callable, source: Callable, keep: bool, excluded: set[str], where: str
) -> inspect.Signature:
    """`target`'s signature with its `**kwargs` replaced by the keyword arguments of `source`."""
    sig = inspect.signature(target)
    params = list(sig.parameters.values())
    var_kw = next((p for p in params if p.kind is p.VAR_KEYWORD), None)
    if var_kw is None:
        raise DelegationError(
            f"@delegates on {where}: its signature {sig} has no **kwargs to replace "
            "(when stacking @delegates, pass keep=True to the inner one)"
        )
    source = getattr(source, "__func__", source)  # a classmethod or staticmethod named in a class body
    try:
        source_params = inspect.signature(source).parameters.values()
    except (TypeError, ValueError) as e:
        raise DelegationError(f"@delegates on {where}: cannot read the signature of {source!r} ({e})") from e
    present = {p.name for p in params}
    added = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in source_params
        if p.kind in _DELEGABLE and p.default is not p.empty and p.name not in present | excluded
    ]
    kept = [p for p in params if p is not var_kw] + added + ([var_kw] if keep else [])
    # a stable sort by kind puts the added keyword-only parameters after any *args and before **kwargs
    return sig.replace(parameters=sorted(kept, key=lambda p: p.kind))


def delegates(
    to: Callable | None = None, keep: bool = False, but: str | Iterable[str] | None = None
) -> Callable[[Any], Any]:
    """Decorator: show the keyword arguments (with defaults) of `to` in place of `**kwargs`.

    On a function, `to` is required (in a class body it may be a classmethod defined above). On a class, the class's own `__init__` is changed, and
    `to=None` means the next `__init__` in the method resolution order (the base class's).
    Only `__signature__` changes, never behaviour. `keep=True` keeps `**kwargs` in the
    signature; `but` (names, or comma-separated text) lists arguments not to show.
    """
    excluded = _names(but)

    def decorate(f: Any) -> Any:
        if isinstance(f, type):
            if "__init__" not in vars(f):
                raise DelegationError(
                    f"@delegates on class {f.__qualname__}: it defines no __init__ of its own to annotate"
                )
            target, source = f.__init__, to if to is not None else super(f, f).__init__
        elif to is None:
            raise DelegationError(f"@delegates on {f.__qualname__}: say where **kwargs go with to=...")
        else:
            target, source = f, to
        target.__signature__ = _delegated_signature(target, source, keep, excluded, f.__qualname__)
        return f

    return decorate


_MISSING = object()


def _forward_target(obj: GetAttr) -> Any:
    """The object lookups are forwarded to, or `_MISSING` when it is not set (yet)."""
    # object.__getattribute__ never calls __getattr__, so an unset default (during unpickling
    # or copying, before __dict__ is filled) cannot recurse
    try:
        return object.__getattribute__(obj, obj._default)
    except AttributeError:
        return _MISSING


class GetAttr:
    """Mixin: attributes not found on the object are read from `getattr(self, self._default)`.

    `_default` names the attribute to forward to (`'default'` unless a subclass says
    otherwise). Names starting with `_` are never forwarded; `_xtra`, when not None, limits
    forwarding to the names it lists. `dir()` includes the forwarded names.
    """

    _default: str = "default"
    _xtra: Collection[str] | None = None

    def __getattr__(self, name: str) -> Any:
        cls = type(self).__name__
        if name.startswith("_") or (self._xtra is not None and name not in self._xtra):
            raise AttributeError(f"{cls!r} object has no attribute {name!r}")
        target = _forward_target(self)
        if target is _MISSING:
            raise AttributeError(
                f"{cls!r} object has no attribute {name!r}, and {self._default!r}, where lookups "
                "are forwarded, is not set"
            )
        try:
            return getattr(target, name)
        except AttributeError as e:
            raise AttributeError(
                f"{cls!r} object has no attribute {name!r}, nor has its {self._default!r} "
                f"({type(target).__name__})"
            ) from e

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        target = _forward_target(self)
        if target is not _MISSING:
            names |= {
                n for n in dir(target) if not n.startswith("_") and (self._xtra is None or n in self._xtra)
            }
        return sorted(names)
