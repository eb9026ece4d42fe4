"""Transforms: reversible, type-dispatched functions with an optional setup step.

```python
class Scale(Transform):
    def setups(self, items): self.m = max(items)
    def encodes(self, x: int): return x / self.m
    def encodes(self, x: str): return x.lower()      # several encodes, chosen by argument type
    def decodes(self, x: float): return x * self.m
```
Each of `encodes`, `decodes` and `setups` is a `TypeDispatch` of every method of that name in
the class body, added to those inherited from the parent class (a subclass wins for the same
type). A transform can also wrap plain functions: `Transform(enc, dec)`.

Calling rules:
- a `tuple` is transformed element by element, one level deep, and stays a tuple; lists and
  tuple subclasses (named tuples, `torch.Size`) are single values. `ItemTransform` receives
  the whole tuple;
- an input no `encodes` accepts is returned unchanged (that is how an image transform leaves the
  labels alone), unless the transform is `strict`, which raises `TransformTypeError`; `decodes`
  always passes such inputs through;
- the result keeps the input's semantic type (`retain_type`: a plain tensor computed from a
  `TensorImage` comes back a `TensorImage`) unless the method's return annotation names a class,
  which the result is then cast to; a result of an unrelated type is kept as it is;
- `split_idx=0` runs only when called with `split_idx=0` (training), `1` only with `1`, and
  `None` always.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from layered.core.dispatch import TypeDispatch
from layered.core.errors import LayeredError
from layered.core.registry import register_serializable
from layered.core.tensor_types import retain_type

__all__ = ["DisplayedTransform", "ItemTransform", "Transform", "TransformTypeError", "noop"]

_METHODS = ("encodes", "decodes", "setups")
# An input whose type has no base but these can never be the target of `retain_type` (no result
# is an instance of a strict base of it), so its calls skip that step.
_ROOTS = frozenset(torch.Tensor.__mro__)


@register_serializable
def noop(x: Any = None, *args, **kwargs) -> Any:
    """Return `x` unchanged."""
    return x


def _passthrough(self: Any, x: Any = None, *args, **kwargs) -> Any:
    """The default of a transform's method dispatch: the input unchanged."""
    return x


class TransformTypeError(LayeredError, TypeError):
    """A transform or pipeline got a value of a type it cannot handle."""


class _Definitions(dict):
    """Class-body namespace that keeps every definition of encodes/decodes/setups, not only the last."""

    def __init__(self):
        super().__init__()
        self.defined: dict[str, list[Callable]] = {m: [] for m in _METHODS}

    def __setitem__(self, key, value):
        if key in _METHODS and callable(value) and not isinstance(value, TypeDispatch):
            self.defined[key].append(value)
        super().__setitem__(key, value)


def _definitions(namespace: dict, method: str) -> list[Callable]:
    if isinstance(namespace, _Definitions):
        return namespace.defined[method]
    f = namespace.get(method)  # a namespace built without a class statement holds one at most
    return [f] if callable(f) and not isinstance(f, TypeDispatch) else []


class _TransformMeta(type):
    """Turns the methods named encodes/decodes/setups into TypeDispatches extending the parent's."""

    @classmethod
    def __prepare__(mcs, name, bases, **kwargs):
        return _Definitions()

    def __new__(mcs, name, bases, namespace, **kwargs):
        body = dict(namespace)
        for method in _METHODS:
            defs = _definitions(namespace, method)
            inherited = next(
                (d for b in bases if isinstance(d := getattr(b, method, None), TypeDispatch)), None
            )
            if defs or inherited is None:
                funcs = [*(inherited.funcs if inherited is not None else ()), *defs]
                body[method] = TypeDispatch(funcs, skip_self=True, name=method, default=_passthrough)
        return super().__new__(mcs, name, bases, body, **kwargs)


def _retains(t: type) -> bool:
    """Whether a result could ever be cast back to type `t`: it has a base other than the roots."""
    return any(b not in _ROOTS for b in t.__mro__[1:])


def _as_annotated(res: Any, typ: type) -> Any:
    """`res` as the class a return annotation names: tensors exactly, other objects if they can be."""
    if type(res) is typ:
        return res
    if isinstance(res, torch.Tensor) and issubclass(typ, torch.Tensor):
        return res.as_subclass(typ)
    return res if isinstance(res, typ) else retain_type(res, typ=typ)


class _Resolver:
    """For one of a transform's dispatches, the function to call per input type, built once per type.

    `top` is for a value as the transform receives it (a tuple is split); `item` for one element.
    """

    __slots__ = ("__weakref__", "item", "kind", "tfm", "top")

    def __init__(self, tfm: Transform, kind: str):
        self.tfm, self.kind = tfm, kind
        self.top: dict[type, Callable] = {}
        self.item: dict[type, Callable] = {}

    def clear(self) -> None:
        """Forget every built function (the dispatch changed)."""
        self.top.clear()
        self.item.clear()

    def __call__(self, x: Any) -> Any:
        t = type(x)
        return (self.top.get(t) or self.fill_top(t))(x)

    def one(self, x: Any) -> Any:
        """Apply to `x` as a single value (a tuple is not split)."""
        t = type(x)
        return (self.item.get(t) or self.fill_item(t))(x)

    def fill_top(self, t: type) -> Callable:
        """Build, cache and return the function for a value of type `t`."""
        if t is tuple and not self.tfm._whole_tuple:
            one = self.one
            self.top[t] = h = lambda x: tuple([one(o) for o in x])
            return h
        self.top[t] = h = self.fill_item(t)
        return h

    def fill_item(self, t: type) -> Callable:
        """Build, cache and return the function for one element of type `t`."""
        self.item[t] = h = self.tfm._handler(self.kind, t, self)
        return h


@register_serializable
class Transform(metaclass=_TransformMeta):
    """A function with `encodes`, an optional inverse `decodes` and an optional `setups`.

    Define them as (possibly several, type-annotated) methods in a subclass, or pass plain
    functions (or TypeDispatches): `Transform(enc, dec)`. `tfm.encodes` is the dispatch itself,
    callable directly (`tfm.encodes(x)`: no tuple splitting, no type retention). `order` sorts transforms in a Pipeline; `split_idx` says
    which subset it runs on (0 training, 1 validation, None all); `strict` makes an input no
    `encodes` accepts an error instead of passing it through.
    """

    order: int = 0
    split_idx: int | None = None
    strict: bool = False
    _whole_tuple = False

    def __init__(
        self,
        enc: Callable | None = None,
        dec: Callable | None = None,
        split_idx: int | None = None,
        order: int | None = None,
        strict: bool | None = None,
    ):
        for arg, f in (("enc", enc), ("dec", dec)):
            if f is not None and not callable(f):
                raise TransformTypeError(f"Transform: {arg} is {f!r}, expected a function")
        if split_idx is not None and not isinstance(split_idx, int):
            raise TransformTypeError(f"Transform: split_idx is {split_idx!r}, expected an int or None")
        if enc is not None:
            self.encodes = _as_dispatch(enc)
            self.name = self.encodes.name or type(self).__name__
        if dec is not None:
            self.decodes = _as_dispatch(dec)
        if split_idx is not None:
            self.split_idx = split_idx
        if order is not None:
            self.order = order
        if strict is not None:
            self.strict = strict

    @property
    def name(self) -> str:
        """The class name, or the wrapped function's name."""
        return self.__dict__.get("_name", type(self).__name__)

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_name"] = value

    def __call__(self, x: Any, split_idx: int | None = None) -> Any:
        if self.split_idx is not None and split_idx != self.split_idx:
            return x
        return self._encoder(x)

    def decode(self, x: Any, split_idx: int | None = None) -> Any:
        """Undo the transform with `decodes` (inputs no `decodes` accepts pass unchanged)."""
        if self.split_idx is not None and split_idx != self.split_idx:
            return x
        return self._decoder(x)

    def setup(self, items: Any = None, train_setup: bool = False) -> None:
        """Run `setups` on `items`; with `train_setup`, on `items.train` when there is one."""
        if train_setup:
            items = getattr(items, "train", items)
        self.setups(items)

    def _handler(self, kind: str, t: type, resolver: _Resolver) -> Callable:
        """The function applying `kind` ('encodes' or 'decodes') to one value of type `t`."""
        dispatch = self.__dict__.get(kind)  # a function transform's own dispatch: no self
        bind = dispatch is None
        if bind:
            dispatch = getattr(type(self), kind)
        dispatch.add_listener(resolver)
        f = dispatch.lookup(t)
        if f is None:
            return self._unmatched if kind == "encodes" else noop
        call = f.__get__(self) if bind else f
        ret = dispatch.return_type(f)
        if ret is not None:

            def annotated(x: Any) -> Any:
                res = call(x)
                return res if type(res) is ret else _as_annotated(res, ret)

            return annotated
        if _retains(t):
            return lambda x: retain_type(call(x), x)
        return call

    def _unmatched(self, x: Any) -> Any:
        if self.strict:
            accepted = ", ".join(sorted({a.__name__ for a, _, _, _ in _dispatch_of(self, "encodes").entries}))
            raise TransformTypeError(
                f"{self.name}: no encodes accepts an input of type {type(x).__name__} "
                f"(it accepts: {accepted or 'nothing'})"
            )
        return x

    def __getattr__(self, name: str) -> Any:
        # The per-type call caches are made on first use (also after a copy, which drops them).
        if name == "_encoder" or name == "_decoder":
            resolver = self.__dict__[name] = _Resolver(self, "encodes" if name == "_encoder" else "decodes")
            return resolver
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _METHODS:
            for key in ("_encoder", "_decoder"):
                if key in self.__dict__:
                    self.__dict__[key].clear()

    def __getstate__(self) -> dict:
        # the caches hold functions bound to this instance: a copy must build its own
        state = dict(self.__dict__)
        state.pop("_encoder", None)
        state.pop("_decoder", None)
        return state

    def __repr__(self) -> str:
        enc = _dispatch_of(self, "encodes")
        dec = _dispatch_of(self, "decodes")
        text = f"{self.name}: {enc.signatures() or '(no encodes)'}"
        return text + (f"; decodes: {dec.signatures()}" if len(dec) else "")


def _as_dispatch(f: Callable) -> TypeDispatch:
    """A function (or an existing dispatch) as a transform's own, self-less dispatch."""
    return f if isinstance(f, TypeDispatch) else TypeDispatch(f, default=noop)


def _dispatch_of(tfm: Transform, kind: str) -> TypeDispatch:
    return tfm.__dict__[kind] if kind in tfm.__dict__ else getattr(type(tfm), kind)


@register_serializable
class ItemTransform(Transform):
    """A transform that receives the whole tuple `(x, y, ...)` instead of each element."""

    _whole_tuple = True


@register_serializable
class DisplayedTransform(Transform):
    """A transform whose repr shows its settings (the public attributes set in `__init__`)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_"))
        return f"{self.name}({args})"
