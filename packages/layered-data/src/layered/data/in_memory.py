"""The in-memory fast path: a batch is one indexing operation per array, no per-item work."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["as_arrays", "slice_arrays"]


def _to_tensor(a: Any) -> torch.Tensor | None:
    if isinstance(a, torch.Tensor):
        return a
    if isinstance(a, np.ndarray) and a.dtype != object:
        return torch.from_numpy(a)
    if type(a).__module__.startswith("pandas") and hasattr(a, "to_numpy"):
        values = a.to_numpy()
        if values.dtype == object:
            return None
        return torch.from_numpy(values if values.flags.writeable else values.copy())
    return None


def as_arrays(dataset: Any) -> tuple[torch.Tensor, ...] | None:
    """The dataset as a tuple of tensors of equal length, if it is held in memory that way.

    Accepted: a tensor, an ndarray, a pandas DataFrame or Series of numbers, or a tuple/list of
    those. Anything else (a list of items, a Dataset object) returns None: the per-item path.
    """
    single = _to_tensor(dataset)
    if single is not None:
        return (single,) if single.ndim else None
    if not isinstance(dataset, (tuple, list)) or not dataset or len(dataset) > 16:
        return None
    arrays = [_to_tensor(a) for a in dataset]
    if any(a is None or a.ndim == 0 for a in arrays):
        return None
    if len({len(a) for a in arrays}) != 1:
        return None
    return tuple(arrays)


def slice_arrays(arrays: tuple[torch.Tensor, ...], idxs) -> Any:
    """One batch: every array indexed by `idxs` at once (a single array gives a tensor, not a tuple)."""
    index = idxs if isinstance(idxs, torch.Tensor) else torch.as_tensor(idxs, dtype=torch.long)
    out = tuple(a[index] for a in arrays)
    return out[0] if len(out) == 1 else out
