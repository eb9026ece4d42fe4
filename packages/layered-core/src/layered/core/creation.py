"""`tensor(...)`: one factory for tensors from tensors, arrays, lists, scalars or array-likes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from layered.core.errors import LayeredError

__all__ = ["TensorCreationError", "tensor"]


class TensorCreationError(LayeredError, ValueError):
    """`tensor(...)` was given something that cannot become a tensor."""


def _describe(x: Any) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _from_array(a: np.ndarray) -> torch.Tensor:
    """Share the array's memory where torch can, copy only where it cannot."""
    if a.dtype == object:
        return _from_data(a.tolist())
    if not a.dtype.isnative:  # torch reads native byte order only
        a = a.astype(a.dtype.newbyteorder("="))
    if any(s < 0 for s in a.strides) or not a.flags.writeable:
        # torch refuses negative strides, and writing through a tensor into a read-only array is unsafe
        a = a.copy()
    try:
        return torch.from_numpy(a)
    except TypeError as e:
        raise TensorCreationError(f"tensor: NumPy dtype {a.dtype} has no torch equivalent") from e


def _from_data(x: Any) -> torch.Tensor:
    try:
        return torch.tensor(x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TensorCreationError(f"tensor: cannot make a tensor from {_describe(x)} ({e})") from e


def _stack(parts: list[torch.Tensor]) -> torch.Tensor:
    shapes = {tuple(p.shape) for p in parts}
    if len(shapes) > 1:
        raise TensorCreationError(
            f"tensor: cannot stack {len(parts)} items of different shapes {sorted(shapes)}; "
            "expected one shape"
        )
    return torch.stack(parts)


def tensor(x: Any, *rest: Any, **kwargs: Any) -> torch.Tensor:
    """Make a tensor from `x` (or from `(x, *rest)` when more than one value is given).

    - a tensor is returned as is (semantic subclasses included);
    - a NumPy array keeps its dtype and shares its memory (`torch.from_numpy`), unless torch
      cannot read it in place (negative strides, foreign byte order, read-only), when it is copied;
    - a non-empty list or tuple whose items are all tensors or array-likes is stacked;
    - anything else with `__array__` goes through `np.asarray`, so it keeps NumPy's dtype;
    - Python scalars and (nested) lists go through `torch.tensor`: ints become int64, floats
      torch's default dtype (float32), and `tensor(1, 2, 3)` is a 1-d tensor.

    Keyword arguments (`dtype`, `device`, ...) are passed to `Tensor.to` at the end.
    """
    if rest:
        x = (x, *rest)
    if isinstance(x, torch.Tensor):
        out = x
    elif isinstance(x, np.ndarray):
        out = _from_array(x)
    elif (
        isinstance(x, (list, tuple))
        and x
        and all(isinstance(o, torch.Tensor) or hasattr(o, "__array__") for o in x)
    ):
        out = _stack([tensor(o) for o in x])
    elif hasattr(x, "__array__"):
        out = _from_array(np.asarray(x))
    else:
        out = _from_data(x)
    return out.to(**kwargs) if kwargs else out
