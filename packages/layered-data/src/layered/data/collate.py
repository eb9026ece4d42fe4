"""Collate: stack a list of samples into a batch, keeping semantic tensor types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from layered.core.tensor import retain_type
from layered.data.errors import DataError

__all__ = ["collate"]


def collate(samples: list) -> Any:
    """Stack `samples` (tensors, numbers, arrays, or tuples/lists/dicts of them) into one batch.

    A tuple of `k` elements per sample gives a tuple of `k` batched elements; the batch of a
    semantic tensor type (e.g. `TensorImage`) has that type and the first sample's metadata.
    Strings and other objects are gathered into a list.
    """
    if not samples:
        raise DataError("collate: cannot make a batch from no samples")
    first = samples[0]
    if isinstance(first, torch.Tensor):
        try:
            out = torch.stack(
                [s.as_subclass(torch.Tensor) if type(s) is not torch.Tensor else s for s in samples]
            )
        except RuntimeError as e:
            shapes = sorted({tuple(s.shape) for s in samples})
            raise DataError(
                f"collate: samples have different shapes {shapes[:5]}; resize them to one size "
                "(an item transform) or use a loader that pads"
            ) from e
        return retain_type(out, first, copy_meta=True)
    if isinstance(first, np.ndarray):
        return torch.from_numpy(np.stack(samples))
    if isinstance(first, (bool, np.bool_)):
        return torch.tensor(samples)
    if isinstance(first, (int, float, np.number)):
        return torch.tensor(samples)
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(collate(list(parts)) for parts in zip(*samples)))
    if isinstance(first, (tuple, list)) and not isinstance(first, str):
        _check_lengths(samples)
        return (
            type(first)(collate(list(parts)) for parts in zip(*samples))
            if isinstance(first, tuple)
            else [collate(list(parts)) for parts in zip(*samples)]
        )
    if isinstance(first, Mapping):
        return {k: collate([s[k] for s in samples]) for k in first}
    return list(samples)


def _check_lengths(samples: list) -> None:
    n = len(samples[0])
    for i, s in enumerate(samples):
        if len(s) != n:
            raise DataError(f"collate: sample {i} has {len(s)} elements, sample 0 has {n}")
