"""Walk nested batches: apply a function to every tensor, find the batch size."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import torch

from layered.core.errors import LayeredError

__all__ = ["apply", "find_bs"]


def apply(func: Callable, x: Any, *args: Any, **kwargs: Any) -> Any:
    """Apply `func(t, *args, **kwargs)` to every tensor in `x`, keeping lists, tuples, namedtuples and dicts.

    Anything that is neither a tensor nor one of those containers is returned unchanged.
    """
    if isinstance(x, torch.Tensor):
        return func(x, *args, **kwargs)
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a namedtuple takes its fields by position
        return type(x)(*(apply(func, o, *args, **kwargs) for o in x))
    if isinstance(x, (list, tuple)):
        return type(x)([apply(func, o, *args, **kwargs) for o in x])
    if isinstance(x, dict):
        # a shallow copy keeps the dict's own type and state (a defaultdict's factory, for one)
        out = copy.copy(x)
        for k, v in x.items():
            out[k] = apply(func, v, *args, **kwargs)
        return out
    if isinstance(x, Mapping):
        return type(x)({k: apply(func, v, *args, **kwargs) for k, v in x.items()})
    return x


def _first_tensor(b: Any) -> torch.Tensor | None:
    if isinstance(b, torch.Tensor):
        return b
    if isinstance(b, Mapping):
        values = b.values()
    elif isinstance(b, (list, tuple)):
        values = b
    else:
        return None
    for o in values:
        t = _first_tensor(o)
        if t is not None:
            return t
    return None


def find_bs(b: Any) -> int:
    """The batch size of a nested batch: the first dimension of the first tensor found in it."""
    t = _first_tensor(b)
    if t is None:
        raise LayeredError(
            f"find_bs: expected a tensor somewhere in the batch, found none in a {type(b).__name__}"
        )
    if t.ndim == 0:
        raise LayeredError("find_bs: the first tensor of the batch is 0-d, so it has no batch dimension")
    return t.shape[0]
