"""Residual blocks: `ResBlock` (basic or bottleneck, grouped, squeeze-excite) and `SEModule`."""

from __future__ import annotations

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.train.errors import TrainError
from layered.train.nn.attention import SimpleSelfAttention
from layered.train.nn.conv import ConvLayer, NormType

__all__ = ["AvgPool", "ResBlock", "SEModule"]


def AvgPool(ks: int = 2, stride: int | None = None, padding: int = 0, ndim: int = 2, ceil_mode: bool = False):
    """An `AvgPool{ndim}d` of kernel `ks` (stride defaults to `ks`)."""
    if ndim not in (1, 2, 3):
        raise TrainError(f"AvgPool supports ndim 1, 2 or 3, got ndim={ndim}")
    return getattr(nn, f"AvgPool{ndim}d")(ks, stride=stride, padding=padding, ceil_mode=ceil_mode)


@register_serializable
class SEModule(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2018): rescale each channel by a gate computed from all channels.

    The gate squeezes `ch` channels to `ch // reduction` (at least 1) and back, then a sigmoid.
    """

    def __init__(self, ch: int, reduction: int, act_cls: type[nn.Module] | None = nn.ReLU, ndim: int = 2):
        super().__init__()
        nh = max(1, ch // reduction)
        self.gate = nn.Sequential(
            getattr(nn, f"AdaptiveAvgPool{ndim}d")(1),
            ConvLayer(ch, nh, ks=1, norm_type=None, act_cls=act_cls, ndim=ndim),
            ConvLayer(nh, ch, ks=1, norm_type=None, act_cls=nn.Sigmoid, ndim=ndim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`x` times its per-channel gate."""
        return x * self.gate(x)


def _zero_norm(norm_type: NormType | None) -> NormType | None:
    """The norm of a block's last conv: the zero-gamma variant, so the block starts as its shortcut."""
    return {NormType.Batch: NormType.BatchZero, NormType.Instance: NormType.InstanceZero}.get(
        norm_type, norm_type
    )


@register_serializable
class ResBlock(nn.Module):
    """A residual block: `act(convs(x) + shortcut(x))`.

    `ni` and `nf` are multiplied by `expansion`. With `expansion == 1` the conv path is two `ks`
    convs (basic block); otherwise a 1x1, a `ks` and a 1x1 conv (bottleneck) whose hidden widths
    are `nh1` and `nh2` (both default to `nf`). `groups` groups the strided conv (`dw=True`: depthwise),
    `g2` the last one. The last conv's norm starts with gamma 0. `reduction` adds a
    squeeze-excite gate, `sa` a `SimpleSelfAttention` (symmetric with `sym`). The shortcut follows
    the "bag of tricks" (He et al., 2019): `pool` of `stride` (before the conv when `pool_first`)
    then a 1x1 conv without activation when the channel count changes. Other keyword arguments go
    to every `ConvLayer`.
    """

    def __init__(
        self,
        expansion: int,
        ni: int,
        nf: int,
        stride: int = 1,
        groups: int = 1,
        reduction: int | None = None,
        nh1: int | None = None,
        nh2: int | None = None,
        dw: bool = False,
        g2: int = 1,
        sa: bool = False,
        sym: bool = False,
        norm_type: NormType | None = NormType.Batch,
        act_cls: type[nn.Module] | None = nn.ReLU,
        ndim: int = 2,
        ks: int = 3,
        pool=AvgPool,
        pool_first: bool = True,
        **kwargs,
    ):
        super().__init__()
        nh2 = nf if nh2 is None else nh2
        nh1 = nh2 if nh1 is None else nh1
        ni, nf = ni * expansion, nf * expansion
        k0 = dict(norm_type=norm_type, act_cls=act_cls, ndim=ndim, **kwargs)
        k1 = dict(norm_type=_zero_norm(norm_type), act_cls=None, ndim=ndim, **kwargs)
        if expansion == 1:
            convs = [
                ConvLayer(ni, nh2, ks, stride=stride, groups=ni if dw else groups, **k0),
                ConvLayer(nh2, nf, ks, groups=g2, **k1),
            ]
        else:
            convs = [
                ConvLayer(ni, nh1, 1, **k0),
                ConvLayer(nh1, nh2, ks, stride=stride, groups=nh1 if dw else groups, **k0),
                ConvLayer(nh2, nf, 1, groups=g2, **k1),
            ]
        if reduction:
            convs.append(SEModule(nf, reduction=reduction, act_cls=act_cls, ndim=ndim))
        if sa:
            convs.append(SimpleSelfAttention(nf, ks=1, sym=sym))
        self.convpath = nn.Sequential(*convs)
        shortcut = (
            [ConvLayer(ni, nf, 1, norm_type=norm_type, act_cls=None, ndim=ndim, **kwargs)] if ni != nf else []
        )
        if stride != 1:
            # ceil_mode keeps the shortcut's size equal to the strided conv's on odd inputs
            shortcut.insert(0 if pool_first else len(shortcut), pool(stride, ndim=ndim, ceil_mode=True))
        self.idpath = nn.Sequential(*shortcut)
        self.act = act_cls(inplace=True) if act_cls is nn.ReLU else (act_cls() if act_cls else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`act(convpath(x) + idpath(x))`."""
        return self.act(self.convpath(x) + self.idpath(x))
