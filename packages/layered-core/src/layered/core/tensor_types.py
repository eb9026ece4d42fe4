"""Semantic tensors: subclasses of `torch.Tensor` that keep their type and metadata through operations.

```python
class TensorImage(TensorBase): pass
x = TensorImage(torch.rand(3, 8, 8), img_size=(8, 8))
type(x * 2), (x * 2).img_size        # TensorImage, (8, 8)
```
Nothing in torch is patched: `__torch_function__` turns every plain tensor an operation returns
into the subclass and copies the metadata (a shallow copy of the instance `__dict__`). When two
different semantic types meet, the result takes the type torch hands the call to — the more
derived class, or for unrelated classes the leftmost argument's — and that argument's metadata.

Pickling stores a plain tensor plus the class and metadata, rebuilt by a module-level function.
`torch.load(..., weights_only=True)` refuses unknown globals, so allow-list them explicitly:
`with safe_tensor_types(): torch.load(f, weights_only=True)`, or once per process with
`register_safe_tensor_types()`. Importing this module allow-lists nothing.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import torch

from layered.core.errors import LayeredError
from layered.core.registry import register_serializable

__all__ = [
    "TensorBase",
    "TensorTypeError",
    "register_safe_tensor_types",
    "retain_type",
    "retain_types",
    "safe_tensor_types",
]

_Tensor = torch.Tensor
_Size = torch.Size
_no_subclass = torch._C.DisableTorchFunctionSubclass
# results torch itself never wraps (e.g. `.grad`): they stay plain tensors
_NOWRAP = torch.overrides.get_default_nowrap_functions()


class TensorTypeError(LayeredError, TypeError):
    """A class given where a semantic tensor class (a `TensorBase` subclass) was expected."""


def _meta_of(args: tuple, cls: type) -> dict | None:
    """The metadata of the first argument of type `cls` (looking into lists, as `torch.cat` gets)."""
    for a in args:
        if isinstance(a, cls):
            return a.__dict__
        if type(a) is list or type(a) is tuple:
            for b in a:
                if isinstance(b, cls):
                    return b.__dict__
    return None


def _wrap(ret: Any, cls: type, args: tuple) -> Any:
    """`ret` with each plain tensor in it (also inside lists and tuples) made a `cls`."""
    if type(ret) is _Tensor:
        ret = ret.as_subclass(cls)
        meta = _meta_of(args, cls)
        if meta:
            ret.__dict__.update(meta)
        return ret
    if isinstance(ret, (tuple, list)) and type(ret) is not _Size:
        items = [_wrap(r, cls, args) for r in ret]
        return type(ret)(*items) if hasattr(ret, "_fields") else type(ret)(items)
    return ret


@register_serializable
class TensorBase(_Tensor):
    """Base of semantic tensors: the subclass and its metadata survive torch operations.

    `TensorImage(x, **meta)` views a tensor `x` (no copy; its metadata is kept if it has some) or
    builds one from anything `torch.as_tensor` takes, and stores `meta` as attributes.
    """

    def __new__(cls, x: Any = None, **meta: Any):
        t = x if isinstance(x, _Tensor) else torch.as_tensor([] if x is None else x)
        out = t.as_subclass(cls)
        if meta:
            out.__dict__.update(meta)
        return out

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # The per-operation cost of every semantic tensor: keep it to one call and a type check.
        with _no_subclass():
            ret = func(*args, **kwargs) if kwargs else func(*args)
        if type(ret) is _Tensor:
            if func in _NOWRAP:
                return ret
            ret = ret.as_subclass(cls)
            meta = _meta_of(args, cls)
            if meta:
                ret.__dict__.update(meta)
            return ret
        if isinstance(ret, (tuple, list)) and type(ret) is not _Size:
            return _wrap(ret, cls, args)
        return ret

    def as_subclass(self, cls: type) -> _Tensor:
        """View as `cls`; the metadata follows when `cls` is a semantic tensor class too."""
        with _no_subclass():
            out = _Tensor.as_subclass(self, cls)
        if self.__dict__ and issubclass(cls, TensorBase):
            out.__dict__.update(self.__dict__)
        return out

    def __reduce_ex__(self, protocol):
        with _no_subclass():
            data = self.detach()
        return _rebuild_semantic_tensor, (type(self), data, dict(self.__dict__), self.requires_grad)

    def __deepcopy__(self, memo: dict) -> TensorBase:
        # torch's default deep copy builds the copy with torch functions disabled, so as a plain tensor
        with _no_subclass():
            data = self.detach().clone()
        out = _rebuild_semantic_tensor(
            type(self), data, copy.deepcopy(self.__dict__, memo), self.requires_grad
        )
        memo[id(self)] = out
        return out

    def __repr__(self) -> str:
        body = repr(self.as_subclass(_Tensor))
        meta = "".join(f", {k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({body}{meta})"


def _rebuild_semantic_tensor(cls: type, data: _Tensor, meta: dict, requires_grad: bool) -> TensorBase:
    """Rebuild a pickled semantic tensor: `data` viewed as `cls`, with its metadata."""
    if not (isinstance(cls, type) and issubclass(cls, TensorBase)):
        raise TensorTypeError(f"cannot rebuild a semantic tensor as {cls!r}: expected a TensorBase subclass")
    out = data.as_subclass(cls)
    out.__dict__.update(meta)
    return out.requires_grad_() if requires_grad else out


def _allow_list(classes: tuple) -> list:
    """The globals a weights-only load of `classes` needs (default: every TensorBase class defined)."""
    if not classes:
        found, todo = [], [TensorBase]
        while todo:
            c = todo.pop()
            found.append(c)
            todo.extend(c.__subclasses__())
        classes = tuple(found)
    for c in classes:
        if not (isinstance(c, type) and issubclass(c, TensorBase)):
            raise TensorTypeError(f"cannot allow-list {c!r} for torch.load: expected a TensorBase subclass")
    return [_rebuild_semantic_tensor, *classes]


@contextlib.contextmanager
def safe_tensor_types(*classes: type) -> Iterator[None]:
    """Within this block `torch.load(weights_only=True)` accepts `classes` (default: all defined)."""
    with torch.serialization.safe_globals(_allow_list(classes)):
        yield


def register_safe_tensor_types(*classes: type) -> list:
    """Allow-list `classes` (default: all defined) for `torch.load(weights_only=True)` process-wide.

    Returns what was added to torch's safe globals. Only this explicit call has that effect.
    """
    allowed = _allow_list(classes)
    torch.serialization.add_safe_globals(allowed)
    return allowed


def retain_type(new: Any, old: Any = None, typ: type | None = None, copy_meta: bool = False) -> Any:
    """Give `new` the type of `old` (or `typ`) when that type is a subclass of `new`'s type.

    Tensors are cast by a view (`as_subclass`), keeping their own metadata; with `copy_meta`,
    `old`'s metadata is added as well (in place when `new` already has the type). Other objects
    become `typ(new)` when `typ` is a class of your own (e.g. a `str` subclass) that accepts
    that; builtins are never cast (`bool(5)` is not 5 kept as a bool). Else `new` is returned.
    """
    if typ is None:
        if old is None:
            return new
        typ = type(old)
    cls = type(new)
    if cls is not typ and (not isinstance(typ, type) or not issubclass(typ, cls)):
        return new
    if isinstance(new, _Tensor):
        out = new if cls is typ else new.as_subclass(typ)
        meta = getattr(old, "__dict__", None) if copy_meta else None
        if meta and isinstance(out, TensorBase):
            out.__dict__.update(meta)
        return out
    if cls is typ or typ.__module__ == "builtins":
        return new
    try:
        return typ(new)
    except (TypeError, ValueError):
        return new


def retain_types(new: Any, il: Any = None, typs: Any = None) -> Any:
    """`retain_type` element-wise over tuples, recursively: from the elements of `il`, or `typs`.

    `il` is the old value (a tuple whose elements give the types, nested like `new`); `typs` a
    tuple of classes (nested likewise) used instead.
    """
    if type(new) is not tuple:
        return retain_type(new, il, typs if isinstance(typs, type) else None)
    n = len(new)
    olds = il if type(il) is tuple else (None,) * n
    types_ = typs if type(typs) is tuple else (None,) * n
    return tuple(retain_types(x, o, t) for x, o, t in zip(new, olds, types_))
