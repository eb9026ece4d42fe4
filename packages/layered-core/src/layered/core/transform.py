"""Transforms: reversible, type-dispatched functions with an optional setup step.

```python
class Scale(Transform):
    def setups(self, items): self.m = max(items)
    def encodes(self, x: int): return x / self.m
    def encodes(self, x: str): return x.lower()     # several encodes, chosen by type
    def decodes(self, x: float): return x * self.m
```
A tuple is transformed element by element (`(x, y)` → `(f(x), f(y))`), unless the transform is
an `ItemTransform`, which receives the whole tuple. An input whose type no `encodes` accepts is
returned unchanged — that is how one transform touches images but not labels — unless the
transform is strict (`strict=True`), which raises a `TypeError` naming the transform and the type.
The result keeps the input's semantic type (a `TensorImage` stays one) unless the method is
annotated with another return type or returns an object of an unrelated type.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from layered.core.dispatch import TypeDispatch
from layered.core.errors import LayeredError
from layered.core.tensor import retain_type

__all__ = ["DisplayedTransform", "ItemTransform", "Transform", "TransformTypeError", "noop"]

_METHODS = ("encodes", "decodes", "setups")
_MISSING = object()


def noop(x: Any = None, *args, **kwargs) -> Any:
    """Return `x` unchanged."""
    return x


class TransformTypeError(LayeredError, TypeError):
    """A strict transform was given an input type none of its methods accepts."""


class _Collector(dict):
    """Class-body namespace that keeps every definition of `encodes`/`decodes`/`setups`."""

    def __setitem__(self, key, value):
        if key in _METHODS and callable(value):
            self.setdefault("__defs__", {}).setdefault(key, []).append(value)
        super().__setitem__(key, value)


class _TransformMeta(type):
    @classmethod
    def __prepare__(mcs, name, bases, **kwargs):
        return _Collector()

    def __new__(mcs, name, bases, namespace, **kwargs):
        defs = namespace.pop("__defs__", {})
        cls = super().__new__(mcs, name, bases, dict(namespace), **kwargs)
        for method in _METHODS:
            inherited = getattr(cls, f"_{method}", None)
            dispatch = TypeDispatch(skip_self=True, name=f"{name}.{method}")
            if inherited is not None:
                dispatch.entries = list(inherited.entries)
                dispatch._count = inherited._count
            for f in defs.get(method, []):
                dispatch.add(f)
            setattr(cls, f"_{method}", dispatch)
            if method in namespace:  # the plain attribute would shadow dispatch: route through it
                delattr(cls, method)
        return cls


@functools.cache
def _return_type(f: Callable) -> type | None:
    ann = inspect.signature(f).return_annotation
    return ann if isinstance(ann, type) and ann is not inspect.Signature.empty else None


class Transform(metaclass=_TransformMeta):
    """A function with `encodes`, an optional inverse `decodes` and an optional `setups`.

    Define them as (possibly several, type-annotated) methods in a subclass, or pass plain
    functions: `Transform(enc, dec)`. `order` sorts transforms in a Pipeline; `split_idx=0`
    runs only on the training set, `1` only on validation, `None` always.
    """

    order: int = 0
    split_idx: int | None = None
    strict: bool = False

    def __init__(
        self,
        enc: Callable | None = None,
        dec: Callable | None = None,
        split_idx: int | None = None,
        order: int | None = None,
        strict: bool | None = None,
    ):
        if enc is not None:
            self._encodes = TypeDispatch(enc, name=getattr(enc, "__name__", "encodes"))
            self._enc_is_func = True
            self.name = getattr(enc, "__name__", type(self).__name__)
        if dec is not None:
            self._decodes = TypeDispatch(dec, name=getattr(dec, "__name__", "decodes"))
            self._dec_is_func = True
        if split_idx is not None:
            self.split_idx = split_idx
        if order is not None:
            self.order = order
        if strict is not None:
            self.strict = strict

    _enc_is_func = False
    _dec_is_func = False

    @property
    def name(self) -> str:
        """The transform's name (its class name, or the wrapped function's name)."""
        return self.__dict__.get("_name", type(self).__name__)

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_name"] = value

    def __call__(self, x: Any, split_idx: int | None = None, **kwargs) -> Any:
        if self.split_idx is not None and split_idx != self.split_idx:
            return x
        return self.encode(x, **kwargs)

    def encode(self, x: Any, **kwargs) -> Any:
        """Apply `encodes` (no split check: what a Pipeline calls once it has filtered by split)."""
        t = type(x)
        if t is tuple and not self._whole_tuple:
            return tuple(self._one(self._encodes, self._enc_is_func, o, None, kwargs) for o in x)
        # the per-item hot path, inlined: a cached lookup, the call, and a cheap type check
        f = self._encodes._cache1.get(t, _MISSING)
        if f is _MISSING or f is None:
            return self._one(self._encodes, self._enc_is_func, x, None, kwargs)
        res = f(x, **kwargs) if self._enc_is_func else f(self, x, **kwargs)
        if type(res) is t:
            return res
        ret = _return_type(f)
        return retain_type(res, typ=ret) if ret is not None else retain_type(res, x)

    def decode(self, x: Any, split_idx: int | None = None, **kwargs) -> Any:
        """Undo the transform with `decodes` (inputs no `decodes` accepts pass unchanged)."""
        if self.split_idx is not None and split_idx != self.split_idx:
            return x
        if isinstance(x, tuple) and not self._whole_tuple:
            return (
                type(x)(*(self._one(self._decodes, self._dec_is_func, o, False, kwargs) for o in x))
                if hasattr(x, "_fields")
                else tuple(self._one(self._decodes, self._dec_is_func, o, False, kwargs) for o in x)
            )
        return self._one(self._decodes, self._dec_is_func, x, False, kwargs)

    def setup(self, items: Any = None, train_setup: bool = False) -> None:
        """Run `setups` on `items` (the training items, already through earlier transforms)."""
        f = self._setups.lookup(type(items))
        if f is not None:
            f(self, items)

    _whole_tuple = False

    def _one(self, dispatch: TypeDispatch, is_func: bool, x: Any, strict: bool | None, kwargs: dict) -> Any:
        t = type(x)
        try:
            f = dispatch._cache1[t]
        except KeyError:
            f = dispatch.lookup1(t)
        if f is None:
            if self.strict if strict is None else strict:
                accepted = ", ".join(a.__name__ for a, _, _, _ in dispatch.entries) or "nothing"
                raise TransformTypeError(
                    f"{self.name}: no method accepts an input of type {t.__name__} (it accepts: {accepted})"
                )
            return x
        res = f(x, **kwargs) if is_func else f(self, x, **kwargs)
        if type(res) is t:
            return res
        ret = _return_type(f)
        return retain_type(res, typ=ret) if ret is not None else retain_type(res, x)

    def __repr__(self) -> str:
        types_ = ", ".join(a.__name__ for a, _, _, _ in self._encodes.entries) or "none"
        dec = ", ".join(a.__name__ for a, _, _, _ in self._decodes.entries)
        return f"{self.name}: encodes ({types_})" + (f" decodes ({dec})" if dec else "")


class ItemTransform(Transform):
    """A transform that receives the whole tuple `(x, y, ...)` instead of each element."""

    _whole_tuple = True


class DisplayedTransform(Transform):
    """A transform whose repr shows its settings (the public attributes set in `__init__`)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_"))
        return f"{self.name}({args})"
