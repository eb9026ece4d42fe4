"""Model bricks: flattening, ranges, embeddings, linear blocks, pooling and skip connections.

The convolution bricks live in `layered.train.nn.conv`, residual blocks in `layered.train.nn.resblock`
and attention in `layered.train.nn.attention`; this module re-exports them so model builders
(XResNet, U-Net, TabularModel, ...) import every brick from one place.
"""

from __future__ import annotations

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.train.errors import TrainError
from layered.train.nn.attention import SelfAttention, SimpleSelfAttention
from layered.train.nn.conv import BatchNorm, ConvLayer, InstanceNorm, NormType, PixelShuffle_ICNR, icnr_init
from layered.train.nn.resblock import AvgPool, ResBlock, SEModule

__all__ = [
    "AdaptiveConcatPool2d",
    "AvgPool",
    "BatchNorm",
    "ConvLayer",
    "Embedding",
    "Flatten",
    "InstanceNorm",
    "LinBnDrop",
    "MergeLayer",
    "Mish",
    "NormType",
    "PixelShuffle_ICNR",
    "ResBlock",
    "SEModule",
    "SelfAttention",
    "SequentialEx",
    "SigmoidRange",
    "SimpleSelfAttention",
    "icnr_init",
]

Mish = nn.Mish


@register_serializable
class Flatten(nn.Module):
    """Flatten each item of the batch to a vector, or with `full=True` the whole batch to one vector."""

    def __init__(self, full: bool = False):
        super().__init__()
        self.full = full

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reshape `x` to `(bs, -1)` (or `(-1,)` when `full`)."""
        return x.reshape(-1) if self.full else x.reshape(x.shape[0], -1)

    def extra_repr(self) -> str:
        return f"full={self.full}"


@register_serializable
class SigmoidRange(nn.Module):
    """Squash the input into `(low, high)` with a scaled sigmoid."""

    def __init__(self, low: float, high: float):
        super().__init__()
        if not high > low:
            raise TrainError(f"SigmoidRange needs low < high, got low={low}, high={high}")
        self.low, self.high = low, high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`low + (high - low) * sigmoid(x)`."""
        return self.low + (self.high - self.low) * torch.sigmoid(x)

    def extra_repr(self) -> str:
        return f"low={self.low}, high={self.high}"


@register_serializable
class Embedding(nn.Embedding):
    """`nn.Embedding` whose weights start from a normal of `std`, truncated at two standard deviations."""

    def __init__(self, ni: int, nf: int, std: float = 0.01):
        super().__init__(ni, nf)
        nn.init.trunc_normal_(self.weight.data, mean=0.0, std=std, a=-2 * std, b=2 * std)


@register_serializable
class LinBnDrop(nn.Sequential):
    """A linear layer with optional batch norm, dropout and activation.

    The default order is batch norm, dropout, linear, activation (normalise what comes in); with
    `lin_first=True` it is linear, activation, batch norm, dropout. The linear layer has no bias
    when batch norm follows it, whose shift makes one redundant.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        bn: bool = True,
        p: float = 0.0,
        act: nn.Module | None = None,
        lin_first: bool = False,
    ):
        if not 0.0 <= p < 1.0:
            raise TrainError(f"LinBnDrop dropout p must be in [0, 1), got {p}")
        norm_drop = ([nn.BatchNorm1d(n_out if lin_first else n_in)] if bn else []) + (
            [nn.Dropout(p)] if p > 0 else []
        )
        lin_act = [nn.Linear(n_in, n_out, bias=not (bn and lin_first))] + ([act] if act is not None else [])
        super().__init__(*(lin_act + norm_drop if lin_first else norm_drop + lin_act))


@register_serializable
class AdaptiveConcatPool2d(nn.Module):
    """Adaptive max pooling and adaptive average pooling side by side: twice the channels."""

    def __init__(self, size: int | tuple[int, int] | None = None):
        super().__init__()
        self.size = size if size is not None else 1
        self.mp, self.ap = nn.AdaptiveMaxPool2d(self.size), nn.AdaptiveAvgPool2d(self.size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenate max- then average-pooled `x` along the channels."""
        return torch.cat([self.mp(x), self.ap(x)], dim=1)


@register_serializable
class MergeLayer(nn.Module):
    """Inside a `SequentialEx`: add the block's input to `x` (a skip), or concatenate it (`dense=True`)."""

    def __init__(self, dense: bool = False):
        super().__init__()
        self.dense = dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Merge `x` with `x.orig`, the input of the enclosing `SequentialEx`."""
        orig = getattr(x, "orig", None)
        if orig is None:
            raise TrainError("MergeLayer needs the block input as `x.orig`: use it inside a SequentialEx")
        return torch.cat([x, orig], dim=1) if self.dense else x + orig

    def extra_repr(self) -> str:
        return f"dense={self.dense}"


@register_serializable
class SequentialEx(nn.Module):
    """Like `nn.Sequential`, but each layer's input carries the block's input as its `.orig` attribute."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the layers in turn, exposing `x` to each of them as `input.orig`."""
        res = x
        for layer in self.layers:
            res.orig = x
            out = layer(res)
            # drop the reference at once: a tensor holding its block input would keep it alive
            del res.orig
            res = out
        return res

    def __getitem__(self, i: int) -> nn.Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def append(self, layer: nn.Module) -> SequentialEx:
        """Add a layer at the end; returns self."""
        self.layers.append(layer)
        return self

    def extend(self, layers) -> SequentialEx:
        """Add several layers at the end; returns self."""
        self.layers.extend(layers)
        return self

    def insert(self, i: int, layer: nn.Module) -> SequentialEx:
        """Insert a layer before position `i`; returns self."""
        self.layers.insert(i, layer)
        return self
