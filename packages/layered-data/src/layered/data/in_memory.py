"""The in-memory fast path: a batch is one indexing operation per array, with no per-item work.

A dataset held as columns — a tensor, a NumPy array, a numeric pandas DataFrame or Series, or a
tuple of those of equal length — is turned into a tuple of tensors once (sharing memory where
torch can), and each batch is `tuple(t[idxs] for t in tensors)`. Item `i` of such a dataset is
`tuple(t[i] for t in tensors)` (the tensor itself when there is one column), so slicing gives
exactly what collating those items would.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch

from layered.data.errors import DataError

__all__ = ["as_arrays", "item_of", "slice_arrays"]


def _pandas_tensor(a: Any) -> torch.Tensor | None:
    # pandas is only looked up, never imported: an object cannot be a DataFrame unless pandas is loaded.
    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(a, (pd.DataFrame, pd.Series)):
        return None
    columns = a.columns if isinstance(a, pd.DataFrame) else [a.name]
    dtypes = a.dtypes if isinstance(a, pd.DataFrame) else [a.dtype]
    bad = [str(c) for c, t in zip(columns, dtypes) if not pd.api.types.is_numeric_dtype(t)]
    if bad:
        raise DataError(
            f"the {type(a).__name__} has non-numeric columns {bad}: encode them as numbers first, or "
            "pass in_memory=False and a create_item that reads a row"
        )
    values = a.to_numpy()
    return torch.from_numpy(values if values.flags.writeable else values.copy())


def _tensor(a: Any) -> torch.Tensor | None:
    if isinstance(a, torch.Tensor):
        return a
    if isinstance(a, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(a)) if a.dtype.kind not in "OUSV" else None
    return _pandas_tensor(a)


def as_arrays(dataset: Any, lists: bool = False) -> tuple[torch.Tensor, ...] | None:
    """`dataset` as a tuple of tensors of equal length, or None when it is not held that way.

    Columns are a tensor, an array or a numeric DataFrame/Series, or a tuple of them; a list of
    them counts only with `lists=True`, because a list of equal-sized tensors is more often a
    list of items (images, say) than a list of columns. Anything else takes the per-item path.
    """
    single = _tensor(dataset)
    if single is not None:
        return (single,) if single.ndim else None
    if not isinstance(dataset, list if lists else tuple) or not dataset or hasattr(dataset, "_fields"):
        return None
    columns = [_tensor(a) for a in dataset]
    if any(c is None or c.ndim == 0 for c in columns):
        return None
    lengths = [len(c) for c in columns]
    if len(set(lengths)) != 1:
        raise DataError(f"in-memory columns must have one length, found lengths {lengths}")
    return tuple(columns)


def item_of(arrays: tuple[torch.Tensor, ...], i: int) -> Any:
    """Item `i`: one row of every column (a single column gives its row, not a 1-tuple)."""
    return arrays[0][i] if len(arrays) == 1 else tuple(a[i] for a in arrays)


def slice_arrays(arrays: tuple[torch.Tensor, ...], idxs: Any) -> Any:
    """The batch of rows `idxs` (indices, or a slice of consecutive rows) of every column, as a copy."""
    if isinstance(idxs, slice):
        batch = tuple(a[idxs].clone() for a in arrays)  # a copy: changing the batch leaves the data intact
    else:
        index = idxs if isinstance(idxs, torch.Tensor) else torch.as_tensor(idxs, dtype=torch.long)
        batch = tuple(a[index] for a in arrays)
    return batch[0] if len(arrays) == 1 else batch
