"""What every loss here shares: the reductions it accepts and the plain tensors it computes on."""

from __future__ import annotations

import torch

from layered.core.tensor_types import TensorBase
from layered.train.errors import TrainError

__all__ = ["REDUCTIONS", "LossError", "check_reduction", "plain"]

REDUCTIONS = ("mean", "sum", "none")


class LossError(TrainError, ValueError):
    """A loss given a bad argument, or predictions and targets that do not line up."""


def check_reduction(reduction: str, owner: str) -> str:
    """`reduction`, checked to be one of `REDUCTIONS` (the error names `owner`)."""
    if reduction not in REDUCTIONS:
        raise LossError(f"{owner}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def plain(t: torch.Tensor) -> torch.Tensor:
    """A semantic tensor as a plain one (other tensors, e.g. a tracer's, pass through untouched)."""
    # semantic subclasses (TensorCategory, TensorMask, ...) would route every torch op through
    # their __torch_function__; a loss only needs the numbers
    return t.as_subclass(torch.Tensor) if isinstance(t, TensorBase) else t
