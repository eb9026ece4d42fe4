"""Semantic tensors: subclasses of `torch.Tensor` that keep their type and metadata through operations.

`class TensorImage(TensorBase): pass` — then `TensorImage(x) * 2`, `.to(device)`, indexing,
`torch.cat` and pickling all give a `TensorImage`, with the attributes set on the input (e.g.
`img_size`) copied to the result. Nothing in `torch.Tensor` is patched: it works through
`__torch_function__`. `torch.load(..., weights_only=True)` accepts them inside
`with safe_tensor_types():`, which allow-lists only the rebuilding function below.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from layered.core.errors import LayeredError

__all__ = ["TensorBase", "retain_type", "retain_types", "safe_tensor_types"]

_SUBCLASSES: dict[str, type] = {}


def _rebuild_tensor_base(data: torch.Tensor, cls_name: str, meta: dict) -> TensorBase:
    """Rebuild a pickled semantic tensor; only registered `TensorBase` subclasses are accepted."""
    cls = _SUBCLASSES.get(cls_name)
    if cls is None:
        raise LayeredError(f"unknown semantic tensor type {cls_name!r}: import the module defining it first")
    out = data.as_subclass(cls)
    out.__dict__.update(meta)
    return out


def _meta_source(args) -> dict | None:
    for a in args:
        if isinstance(a, TensorBase):
            return a.__dict__
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, TensorBase):
                    return b.__dict__
    return None


def _convert(ret: Any, cls: type, meta: dict | None) -> Any:
    if isinstance(ret, torch.Tensor):
        if not isinstance(ret, cls):
            ret = ret.as_subclass(cls)
        if meta and not ret.__dict__:
            ret.__dict__.update(meta)
        return ret
    if isinstance(ret, (tuple, list)) and not hasattr(ret, "_fields"):
        return type(ret)(_convert(r, cls, meta) for r in ret)
    return ret


_NO_WRAP = None


class TensorBase(torch.Tensor):
    """Base of semantic tensors: the subclass and its metadata survive torch operations.

    `TensorBase(x, **meta)` builds one from anything `torch.as_tensor` takes (a tensor is viewed,
    not copied) and stores `meta` as attributes. When two different subclasses meet in one
    operation, torch picks the more derived one, else the leftmost argument's type.
    """

    def __new__(cls, x: Any = None, **meta: Any):
        t = x if isinstance(x, torch.Tensor) else torch.as_tensor(x if x is not None else [])
        out = t.as_subclass(cls)
        if isinstance(x, TensorBase) and x.__dict__:
            out.__dict__.update(x.__dict__)
        out.__dict__.update(meta)
        return out

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _SUBCLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        global _NO_WRAP
        if _NO_WRAP is None:
            _NO_WRAP = torch.overrides.get_default_nowrap_functions()
        with torch._C.DisableTorchFunctionSubclass():
            ret = func(*args, **(kwargs or {}))
        if func in _NO_WRAP:
            return ret
        return _convert(ret, cls, _meta_source(args))

    def __reduce_ex__(self, protocol):
        data = self.as_subclass(torch.Tensor).detach()
        name = f"{type(self).__module__}.{type(self).__qualname__}"
        return _rebuild_tensor_base, (data, name, dict(self.__dict__))

    def as_subclass(self, cls):
        """View as `cls`; metadata follows when `cls` is itself a semantic tensor."""
        with torch._C.DisableTorchFunctionSubclass():
            out = torch.Tensor.as_subclass(self, cls)
        if issubclass(cls, TensorBase) and self.__dict__:
            out.__dict__.update(self.__dict__)
        return out

    def __repr__(self) -> str:
        body = self.as_subclass(torch.Tensor).__repr__()
        meta = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({body}{', ' + meta if meta else ''})"


@contextlib.contextmanager
def safe_tensor_types():
    """Within this block `torch.load(weights_only=True)` accepts registered semantic tensors."""
    with torch.serialization.safe_globals([_rebuild_tensor_base]):
        yield


def retain_type(new: Any, old: Any = None, typ: type | None = None, copy_meta: bool = False) -> Any:
    """Give `new` the type of `old` (or `typ`) when that type is a subclass of `new`'s type.

    Tensors become the subclass by a view (`as_subclass`); with `copy_meta`, `old`'s metadata is
    copied. Other objects are converted with `typ(new)` only when `typ` is a subclass of their
    type (e.g. `str` → a `str` subclass). Anything else is returned unchanged.
    """
    if new is None:
        return new
    if typ is None:
        if old is None:
            return new
        typ = type(old)
    if type(new) is typ or not isinstance(typ, type) or not issubclass(typ, type(new)):
        return new
    if isinstance(new, torch.Tensor):
        out = torch.Tensor.as_subclass(new, typ)
        if copy_meta and isinstance(old, TensorBase) and old.__dict__:
            out.__dict__.update(old.__dict__)
        return out
    try:
        return typ(new)
    except Exception:
        return new


def retain_types(new: Any, il: Any = None, typs: Any = None) -> Any:
    """`retain_type` element-wise over tuples (recursively), from the types of `il` or `typs`."""
    if not isinstance(new, tuple):
        return retain_type(new, il, typs)
    if typs is None:
        typs = [type(o) for o in il] if isinstance(il, tuple) else [None] * len(new)
    olds = il if isinstance(il, tuple) else [None] * len(new)
    return tuple(
        retain_types(n, o, t if not isinstance(n, tuple) else None)
        if isinstance(n, tuple)
        else retain_type(n, o, t)
        for n, o, t in zip(new, olds, typs)
    )
