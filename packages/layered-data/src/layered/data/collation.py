"""Collate: stack samples into a batch, keeping semantic tensor types; convert arrays to tensors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from layered.core.tensor_types import retain_type
from layered.data.errors import DataError

__all__ = ["collate", "convert"]


def _is_namedtuple(o: Any) -> bool:
    return isinstance(o, tuple) and hasattr(o, "_fields")


def _stack(samples: list) -> torch.Tensor:
    first = samples[0]
    # Stacking plain views skips the subclass dispatch on every sample; the type is put back once.
    plain = [s if type(s) is torch.Tensor else s.as_subclass(torch.Tensor) for s in samples]
    try:
        out = torch.stack(plain)
    except RuntimeError as e:
        shapes = sorted({tuple(s.shape) for s in samples})
        raise DataError(
            f"collate: samples have different shapes {shapes[:5]}; give them one size (an item "
            "transform) or replace `create_batch`/`before_batch` with one that pads"
        ) from e
    return retain_type(out, first, copy_meta=True)


def _array(a: np.ndarray) -> torch.Tensor:
    if a.dtype.kind in "OUSV":
        raise DataError(f"collate: cannot make a tensor from a NumPy array of dtype {a.dtype}")
    return torch.from_numpy(np.ascontiguousarray(a))


def collate(samples: list) -> Any:
    """Stack `samples` (tensors, numbers, arrays, or tuples/lists/dicts of them) into one batch.

    A tuple of `k` elements per sample gives a tuple of `k` batched elements; the batch of a
    semantic tensor type (e.g. `TensorImage`) has that type and the first sample's metadata.
    Strings and other objects are gathered into a list.
    """
    if not len(samples):
        raise DataError("collate: cannot make a batch from no samples")
    first = samples[0]
    if isinstance(first, torch.Tensor):
        return _stack(samples)
    if isinstance(first, np.ndarray):
        return _stack([_array(s) for s in samples])
    if isinstance(first, np.generic) and not isinstance(first, (np.str_, np.bytes_)):
        return torch.from_numpy(np.array(samples))
    if isinstance(first, (bool, int, float)):
        return torch.tensor(samples)
    if isinstance(first, (tuple, list)):
        _check_lengths(samples)
        parts = [collate(list(p)) for p in zip(*samples)]
        if _is_namedtuple(first):
            return type(first)(*parts)
        return tuple(parts) if isinstance(first, tuple) else parts
    if isinstance(first, Mapping):
        for i, s in enumerate(samples):
            missing = [k for k in first if k not in s]
            if missing:
                raise DataError(f"collate: sample {i} lacks the keys {missing} that sample 0 has")
        return {k: collate([s[k] for s in samples]) for k in first}
    return list(samples)


def convert(o: Any) -> Any:
    """Turn NumPy arrays and scalars in `o` into tensors, through tuples, lists and dicts; no stacking.

    This is what a loader with `bs=None` does to each item: it is already a batch.
    """
    if isinstance(o, np.ndarray) and o.dtype.kind not in "OUSV":
        return torch.from_numpy(np.ascontiguousarray(o))
    if isinstance(o, np.generic) and not isinstance(o, (np.str_, np.bytes_)):
        return torch.from_numpy(np.array(o))
    if _is_namedtuple(o):
        return type(o)(*(convert(x) for x in o))
    if isinstance(o, (tuple, list)):
        return type(o)(convert(x) for x in o)
    if isinstance(o, Mapping):
        return {k: convert(v) for k, v in o.items()}
    return o


def _check_lengths(samples: list) -> None:
    n = len(samples[0])
    for i, s in enumerate(samples):
        if len(s) != n:
            raise DataError(f"collate: sample {i} has {len(s)} elements, sample 0 has {n}")
