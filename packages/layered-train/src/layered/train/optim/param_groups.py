"""Parameter groups of a model: splitters, norm-layer detection and learning-rate spreading."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from layered.train.errors import TrainError

__all__ = ["NORM_TYPES", "even_mults", "expand_lr", "norm_bias_params", "norm_params", "trainable_params"]

NORM_TYPES = (
    nn.modules.batchnorm._BatchNorm,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.instancenorm._InstanceNorm,
)


def trainable_params(model: nn.Module) -> list[list[nn.Parameter]]:
    """The default splitter: one parameter group holding every parameter that requires a gradient."""
    return [[p for p in model.parameters() if p.requires_grad]]


def norm_params(model: nn.Module) -> list[nn.Parameter]:
    """Parameters of every normalisation layer (batch, layer, group, instance norm) in `model`."""
    return [p for m in model.modules() if isinstance(m, NORM_TYPES) for p in m.parameters(recurse=False)]


def norm_bias_params(model: nn.Module) -> list[nn.Parameter]:
    """Norm-layer parameters and every bias: the ones weight decay skips unless `wd_bn_bias=True`."""
    found = {id(p): p for p in norm_params(model)}
    for m in model.modules():
        bias = getattr(m, "bias", None)
        if isinstance(bias, nn.Parameter):
            found[id(bias)] = bias
    return list(found.values())


def even_mults(start: float, stop: float, n: int) -> np.ndarray:
    """`n` values from `start` to `stop`, evenly spaced on a log scale."""
    return np.array([stop]) if n == 1 else np.geomspace(start, stop, n)


def expand_lr(lr, n_groups: int) -> np.ndarray:
    """One learning rate per parameter group.

    A number gives the same rate to every group; `slice(hi)` gives `hi/10` to every group but the
    last and `hi` to the last; `slice(lo, hi)` spreads rates geometrically from `lo` (first group)
    to `hi` (last) — discriminative learning rates. A list or array must have one value per group.
    """
    if isinstance(lr, slice):
        if lr.stop is None:
            raise TrainError(f"a learning-rate slice needs a stop value, got {lr}")
        if lr.start is None:
            return np.array([lr.stop / 10] * (n_groups - 1) + [lr.stop], dtype=float)
        return even_mults(lr.start, lr.stop, n_groups)
    arr = np.asarray(lr.detach().cpu() if isinstance(lr, torch.Tensor) else lr, dtype=float)
    if arr.ndim == 0:
        return np.full(n_groups, float(arr))
    if len(arr) != n_groups:
        raise TrainError(f"got {len(arr)} learning rates for {n_groups} parameter groups")
    return arr
