"""Type dispatch on up to two arguments, resolved by MRO, registered from annotations.

```python
@typedispatch
def describe(x: int, y: str): ...
@typedispatch
def describe(x: numbers.Number, y): ...   # y unannotated: any type
describe(3, "a")                # the first: int is more specific than Number
describe.explain(3, 2.0)        # text saying which one a call picks and why the others lose
```
Rules: the implementation whose first annotation is nearest in the MRO of the first argument's
type wins, then the nearest for the second; on a tie, the one registered last. Annotations may be
a class, an ABC (`numbers.Integral`, `Sequence`: ranked after the concrete classes of the MRO and
before `object`, a more derived ABC first), `Union[...]`, `X | Y`, a tuple of classes, or nothing
(`object`). Lookups are cached per pair of types and the cache is emptied when an implementation
is registered, so a repeated lookup is one dictionary access.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
import weakref
from collections.abc import Callable
from typing import Any

from layered.core.errors import LayeredError
from layered.core.registry import register_serializable

__all__ = ["DispatchError", "Explanation", "TypeDispatch", "typedispatch"]

_EMPTY = inspect.Parameter.empty
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class DispatchError(LayeredError, TypeError):
    """No implementation accepts the argument types, or an annotation cannot be dispatched on."""


class Explanation(str):
    """The text `TypeDispatch.explain` returns; it displays as plain lines at a prompt."""

    def __repr__(self) -> str:
        return str(self)


def _fname(f: Callable) -> str:
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


def _globals(f: Callable) -> dict:
    """The namespace `f`'s annotations were written in: its module's, also for bound methods and callable objects."""
    for candidate in (f, getattr(f, "__func__", None), vars(type(f)).get("__call__")):
        found = getattr(candidate, "__globals__", None)
        if found is not None:
            return found
    module = sys.modules.get(getattr(f, "__module__", None) or type(f).__module__)
    return vars(module) if module is not None else {}


def _resolve(annotation: Any, f: Callable, where: str) -> Any:
    """Evaluate a postponed (string) annotation in the function's module."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, _globals(f))
    except Exception as e:
        raise DispatchError(
            f"{where}: cannot resolve the annotation {annotation!r} ({e}); dispatch needs the class "
            "to be visible from the function's module"
        ) from e


def _classes(annotation: Any, where: str) -> tuple[type, ...]:
    """The classes an annotation stands for: unions and tuples expanded, none meaning `object`."""
    if annotation is _EMPTY or annotation is Any:
        return (object,)
    if annotation is None:
        return (type(None),)
    if isinstance(annotation, tuple):
        return tuple(c for a in annotation for c in _classes(a, where))
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(c for a in typing.get_args(annotation) for c in _classes(a, where))
    if isinstance(origin, type):  # list[int] dispatches as list
        return (origin,)
    if isinstance(annotation, type):
        return (annotation,)
    raise DispatchError(
        f"{where}: cannot dispatch on the annotation {annotation!r}; expected a class, an ABC, "
        "Union[...], X | Y or a tuple of classes"
    )


def _distance(t: type, target: type) -> float | None:
    """How far `target` is from `t` (0: `t` itself); None when `t` is not a subclass of it."""
    mro = t.__mro__
    if target in mro:
        return float(mro.index(target))
    if issubclass(t, target):
        # A virtual base (an ABC): after every concrete base, before object; a more derived
        # ABC (longer MRO) comes first, so Integral beats Number for an int.
        return len(mro) - 2 + 1 / len(target.__mro__)
    return None


def _distance2(t: type, target: type) -> float | None:
    """`_distance` for the second argument; one not passed matches any annotation, `object` first."""
    return float(target is not object) if t is _Missing else _distance(t, target)


def _name(t: type) -> str:
    return t.__name__


class _Missing:
    """The 'type' of a second argument that was not passed: it matches any second annotation."""


class _BoundDispatch:
    """A method-style TypeDispatch bound to an instance: dispatches on the arguments after it."""

    __slots__ = ("dispatch", "inst")

    def __init__(self, dispatch: TypeDispatch, inst: Any):
        self.dispatch, self.inst = dispatch, inst

    def __call__(self, *args, **kwargs):
        return self.dispatch(self.inst, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # the rest (explain, lookup, entries, ...) is the dispatch's own: it already skips self
        return getattr(self.dispatch, name)

    def __len__(self) -> int:
        return len(self.dispatch)

    def __repr__(self) -> str:
        return f"{self.dispatch!r} (bound to a {type(self.inst).__name__})"


@register_serializable
class TypeDispatch:
    """A function chosen by the types of its first one or two positional arguments.

    `funcs` are registered in order (see `add`). `skip_self=True` is for methods: the first
    parameter is not dispatched on, and a TypeDispatch stored on a class binds the instance like
    a method does (without it, it acts as a static method). `default` is called with the arguments when no implementation matches; without
    one such a call raises `DispatchError` (a `TypeError`) naming the function and the types.
    """

    def __init__(
        self,
        funcs: Callable | list | tuple = (),
        skip_self: bool = False,
        name: str | None = None,
        default: Callable | None = None,
    ):
        self.skip_self, self.name, self.default = skip_self, name, default
        self.funcs: list[Callable] = []
        self.entries: list[tuple[type, type, Callable, int]] = []
        self._returns: dict[Callable, type | None] = {}
        self._cache: dict[tuple[type, type], Callable | None] = {}
        self._listeners: weakref.WeakSet = weakref.WeakSet()
        for f in funcs if isinstance(funcs, (list, tuple)) else [funcs]:
            self.add(f)

    def get_config(self) -> dict:
        """The constructor arguments that rebuild this dispatch (for saved configurations)."""
        return {
            "funcs": list(self.funcs),
            "skip_self": self.skip_self,
            "name": self.name,
            "default": self.default,
        }

    @classmethod
    def from_config(cls, config: dict) -> TypeDispatch:
        """Rebuild a dispatch from what `get_config` returned."""
        return cls(**config)

    def __getstate__(self) -> dict:
        # the cache holds the types of whatever was called before (e.g. pandas rows): a copy or an
        # export starts with an empty one, and names only the registered types
        return {**self.__dict__, "_cache": {}}

    def add(self, f: Callable) -> TypeDispatch:
        """Register `f` under the annotations of its first two dispatched parameters; returns self."""
        if not callable(f):
            raise DispatchError(f"{self.name or 'TypeDispatch'}: cannot register {f!r}, expected a function")
        try:
            params = list(inspect.signature(f).parameters.values())
        except (TypeError, ValueError):  # some builtins have no signature: they accept anything
            params = []
        params = [p for p in params if p.kind in _POSITIONAL][1 if self.skip_self else 0 :][:2]
        where = _fname(f)
        annotations = getattr(f, "__annotations__", None) or {}
        found = []
        for p in params:
            at = f"{where}, parameter {p.name}"
            found.append(_classes(_resolve(p.annotation, f, at), at))
        t1, t2 = [*found, (object,), (object,)][:2]
        ret = _resolve(annotations.get("return", _EMPTY), f, f"{where}, return annotation")
        seq = len(self.entries)
        for a in t1:
            for b in t2:
                self.entries.append((a, b, f, seq))
                seq += 1
        self.funcs.append(f)
        self._returns[f] = ret if isinstance(ret, type) and ret not in (_EMPTY, type(None), Any) else None
        self._cache.clear()
        for listener in list(self._listeners):
            listener.clear()
        if self.name is None:
            self.name = getattr(f, "__name__", None)
        return self

    def register(self, f: Callable) -> Callable:
        """Decorator form of `add`: registers `f` and returns it unchanged."""
        self.add(f)
        return f

    def add_listener(self, obj: Any) -> None:
        """Call `obj.clear()` whenever an implementation is registered (`obj` is held weakly).

        For callers that cache what they derive from lookups (e.g. a Transform's per-type calls).
        """
        self._listeners.add(obj)

    def return_type(self, f: Callable) -> type | None:
        """The class `f`'s return annotation names, or None (no annotation, or not a single class)."""
        return self._returns.get(f)

    def _ranked(self, t1: type, t2: type) -> list[tuple[tuple[float, float, int], tuple]]:
        ranked = []
        for a, b, f, seq in self.entries:
            d1 = _distance(t1, a)
            d2 = _distance2(t2, b) if d1 is not None else None
            if d2 is not None:
                ranked.append(((d1, d2, -seq), (a, b, f, seq)))
        ranked.sort(key=lambda r: r[0])
        return ranked

    def lookup(self, t1: type, t2: type | None = None) -> Callable | None:
        """The implementation for argument types `(t1, t2)`, or None; cached per pair."""
        t2 = _Missing if t2 is None else t2
        try:
            return self._cache[t1, t2]
        except KeyError:
            ranked = self._ranked(t1, t2)
            found = self._cache[t1, t2] = ranked[0][1][2] if ranked else None
            return found

    def __getitem__(self, key: type | tuple[type, type]) -> Callable | None:
        """`td[int]` or `td[int, str]`: the implementation for those types, or None."""
        return self.lookup(*key) if isinstance(key, tuple) else self.lookup(key)

    def __call__(self, *args, **kwargs):
        i = 1 if self.skip_self else 0
        n = len(args)
        t1 = type(args[i]) if n > i else object
        t2 = type(args[i + 1]) if n > i + 1 else _Missing
        try:
            f = self._cache[t1, t2]
        except KeyError:
            f = self.lookup(t1, t2)
        if f is not None:
            return f(*args, **kwargs)
        if self.default is not None:
            return self.default(*args, **kwargs)
        raise DispatchError(
            f"{self.name}: no implementation accepts argument types "
            f"({_name(t1)}{'' if t2 is _Missing else ', ' + _name(t2)}); "
            f"registered: {self.signatures() or 'none'}"
        )

    def __get__(self, inst: Any, owner: type | None = None) -> Any:
        if inst is None or not self.skip_self:
            return self
        return _BoundDispatch(self, inst)

    def explain(self, *args) -> Explanation:
        """Say which implementation a call with `args` would pick and why each other one is skipped.

        `args` are the dispatched arguments (for a method-style dispatch, those after `self`).
        """
        t1 = type(args[0]) if args else object
        t2 = type(args[1]) if len(args) > 1 else _Missing
        ranked = self._ranked(t1, t2)
        call = f"{self.name}({_name(t1)})" if t2 is _Missing else f"{self.name}({_name(t1)}, {_name(t2)})"
        if not ranked:
            then = f"{_fname(self.default)} (the default) is called" if self.default else "the call raises"
            lines = [f"{call}: no implementation matches, so {then}"]
            chosen = None
        else:
            (c1, c2, _), chosen = ranked[0]
            lines = [
                f"{call} calls {_fname(chosen[2])} registered for ({_name(chosen[0])}, {_name(chosen[1])}): "
                "the most specific match"
            ]
        for a, b, f, seq in self.entries:
            if chosen is not None and seq == chosen[3]:
                continue
            d1, d2 = _distance(t1, a), _distance2(t2, b)
            if d1 is None:
                why = f"{_name(t1)} is not a {_name(a)} (argument 1)"
            elif d2 is None:
                why = f"{_name(t2)} is not a {_name(b)} (argument 2)"
            elif d1 > c1:
                why = f"less specific than {_name(chosen[0])} for argument 1"
            elif d2 > c2:
                why = f"less specific than {_name(chosen[1])} for argument 2"
            else:
                why = "as specific, but registered earlier (the later registration wins)"
            lines.append(f"  skips {_fname(f)} ({_name(a)}, {_name(b)}): {why}")
        return Explanation("\n".join(lines))

    def signatures(self) -> str:
        """The registered type pairs and their functions, as text: `(int,object) -> f, ...`."""
        return ", ".join(
            f"({_name(a)},{_name(b)}) -> {getattr(f, '__name__', f)}" for a, b, f, _ in self.entries
        )

    def __len__(self) -> int:
        return len(self.funcs)

    def __repr__(self) -> str:
        return f"{self.name}: {self.signatures() or '(nothing registered)'}"


_REGISTRY: dict[str, TypeDispatch] = {}


def typedispatch(f: Callable) -> TypeDispatch:
    """Decorator: add `f` to the dispatched function of its name, created on first use.

    A module-level function joins the library-wide dispatcher of that bare name, so a package can
    extend another's (`@typedispatch def show_batch(x: TensorImage, ...)` adds a case to the
    `show_batch` that layered.data calls). Methods (defined in a class body) and nested functions
    are kept apart by module and qualified name; a method dispatches on the arguments after `self`.
    """
    parts = f.__qualname__.split(".")
    is_method = len(parts) > 1 and parts[-2] != "<locals>"
    key = f.__name__ if len(parts) == 1 else f"{f.__module__}.{f.__qualname__}"
    if key not in _REGISTRY:
        _REGISTRY[key] = TypeDispatch(skip_self=is_method, name=f.__name__)
    return _REGISTRY[key].add(f)
