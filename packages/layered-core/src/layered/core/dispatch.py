"""Type dispatch on up to two arguments, resolved by MRO, registered from annotations.

```python
@typedispatch
def describe(x: int, y: str): ...
@typedispatch
def describe(x: numbers.Number, y): ...   # y unannotated: any type
describe(3, "a")          # the first: int is more specific than Number
describe.explain(3, 2.0)  # text saying which one a call picks and why
```
The most specific match on the first argument wins, then on the second; on a tie, the one
registered last. Lookups are cached per pair of types, so after the first call a lookup is one
dictionary access.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from layered.core.errors import LayeredError

__all__ = ["DispatchError", "TypeDispatch", "typedispatch"]


class DispatchError(LayeredError, TypeError):
    """No registered implementation accepts the argument types."""


def _expand(annotation: Any) -> tuple[type, ...]:
    """The classes an annotation stands for: unions and tuples are expanded, None means object."""
    if annotation is inspect.Parameter.empty or annotation is Any or annotation is None:
        return (object,)
    if isinstance(annotation, tuple):
        return tuple(c for a in annotation for c in _expand(a))
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return tuple(c for a in typing.get_args(annotation) for c in _expand(a))
    if origin is not None:
        return (origin,)
    if isinstance(annotation, type):
        return (annotation,)
    raise DispatchError(
        f"cannot dispatch on the annotation {annotation!r}: expected a class, a Union or a tuple"
    )


def _resolve(annotation: Any, f: Callable) -> Any:
    """A string annotation (postponed evaluation) evaluated in the function's module."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, getattr(f, "__globals__", {}))  # what typing.get_type_hints does too
    except Exception as e:
        raise DispatchError(f"cannot resolve the annotation {annotation!r} of {f.__qualname__}: {e}") from e


def _distance(t: type, target: type) -> float | None:
    """How far `target` is from `t` (0: the same class); None when `t` is not a subclass of it."""
    if target is object:
        return float(len(t.__mro__))  # always last
    mro = t.__mro__
    if target in mro:
        return float(mro.index(target))
    if issubclass(t, target):  # ABCs and virtual subclasses: after concrete bases, before object
        return len(mro) - 0.5
    return None


class TypeDispatch:
    """A function chosen by the types of its first one or two arguments.

    `skip_self=True` is for methods: the first parameter (self) is not dispatched on, and
    annotations are read from the next two.
    """

    def __init__(self, funcs: Callable | list | tuple = (), skip_self: bool = False, name: str | None = None):
        self.skip_self = skip_self
        self.entries: list[tuple[type, type, Callable, int]] = []
        self._cache: dict[tuple[type, type], Callable | None] = {}
        self._cache1: dict[type, Callable | None] = {}
        self._count = 0
        self.name = name
        for f in funcs if isinstance(funcs, (list, tuple)) else [funcs]:
            self.add(f)

    def add(self, f: Callable) -> TypeDispatch:
        """Register `f` under the annotations of its first two (dispatched) parameters."""
        params = list(inspect.signature(f).parameters.values())
        if self.skip_self:
            params = params[1:]
        params = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:2]
        try:
            hints = typing.get_type_hints(f)
        except Exception:  # e.g. a tuple of classes, which typing rejects: evaluate each one ourselves
            hints = {k: _resolve(v, f) for k, v in getattr(f, "__annotations__", {}).items()}
        t1 = _expand(hints.get(params[0].name, inspect.Parameter.empty)) if params else (object,)
        t2 = _expand(hints.get(params[1].name, inspect.Parameter.empty)) if len(params) > 1 else (object,)
        for a in t1:
            for b in t2:
                self.entries.append((a, b, f, self._count))
                self._count += 1
        self._cache.clear()
        self._cache1.clear()
        if self.name is None:
            self.name = getattr(f, "__name__", None)
        return self

    def register(self, f: Callable) -> Callable:
        """Decorator form of `add`; returns `f`."""
        self.add(f)
        return f

    def _ranked(self, t1: type, t2: type) -> list[tuple[tuple, tuple]]:
        ranked = []
        for a, b, f, seq in self.entries:
            d1, d2 = _distance(t1, a), _distance(t2, b)
            if d1 is not None and d2 is not None:
                ranked.append(((d1, d2, -seq), (a, b, f)))
        return sorted(ranked, key=lambda r: r[0])

    def lookup(self, t1: type, t2: type = object) -> Callable | None:
        """The implementation for argument types `(t1, t2)`, or None."""
        key = (t1, t2)
        try:
            return self._cache[key]
        except KeyError:
            ranked = self._ranked(t1, t2)
            found = ranked[0][1][2] if ranked else None
            self._cache[key] = found
            return found

    def lookup1(self, t: type) -> Callable | None:
        """The implementation for a single argument of type `t` (the hot path of transforms)."""
        try:
            return self._cache1[t]
        except KeyError:
            found = self._cache1[t] = self.lookup(t, object)
            return found

    def __getitem__(self, types_: type | tuple) -> Callable | None:
        t1, t2 = types_ if isinstance(types_, tuple) else (types_, object)
        return self.lookup(t1, t2)

    def __call__(self, *args, **kwargs):
        t1 = type(args[0]) if args else object
        t2 = type(args[1]) if len(args) > 1 else object
        f = self.lookup(t1, t2)
        if f is None:
            raise DispatchError(
                f"{self.name}: no implementation for argument types ({t1.__name__}, {t2.__name__}); "
                f"registered: {', '.join(f'({a.__name__}, {b.__name__})' for a, b, _, _ in self.entries) or 'none'}"
            )
        return f(*args, **kwargs)

    def __len__(self) -> int:
        return len(self.entries)

    def explain(self, *args, types_: tuple | None = None) -> str:
        """Say which implementation a call with `args` (or argument `types_`) picks, and why."""
        t1, t2 = (
            types_
            if types_ is not None
            else (type(args[0]) if args else object, type(args[1]) if len(args) > 1 else object)
        )
        ranked = self._ranked(t1, t2)
        lines = [f"{self.name}({t1.__name__}, {t2.__name__}):"]
        chosen = ranked[0][1] if ranked else None
        for a, b, f, _ in self.entries:
            sig = f"{getattr(f, '__qualname__', f)}({a.__name__}, {b.__name__})"
            if chosen is not None and (a, b, f) == chosen:
                lines.append(f"  picks {sig}: the most specific match")
            elif _distance(t1, a) is None:
                lines.append(f"  skips {sig}: {t1.__name__} is not a {a.__name__}")
            elif _distance(t2, b) is None:
                lines.append(f"  skips {sig}: {t2.__name__} is not a {b.__name__}")
            else:
                lines.append(
                    f"  skips {sig}: matches, but less specific than {chosen[0].__name__}, "
                    f"{chosen[1].__name__} (or registered earlier)"
                )
        if chosen is None:
            lines.append("  no implementation matches")
        return "\n".join(lines)

    def __repr__(self) -> str:
        pairs = ", ".join(f"({a.__name__},{b.__name__})" for a, b, _, _ in self.entries)
        return f"TypeDispatch {self.name}: {pairs}"


_REGISTRY: dict[str, TypeDispatch] = {}


def typedispatch(f: Callable) -> TypeDispatch:
    """Decorator: add `f` to the library-wide dispatcher of that name (created on first use).

    Implementations of one name may live in different modules and packages (e.g. `show_batch`
    for each application's types), which is what makes showing and decoding extensible.
    """
    name = f.__name__
    if name not in _REGISTRY:
        _REGISTRY[name] = TypeDispatch(name=name)
    return _REGISTRY[name].add(f)
