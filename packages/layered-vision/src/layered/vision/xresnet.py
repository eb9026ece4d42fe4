"""XResNet: ResNet with the "bag of tricks" tweaks (He et al., 2019), and its ResNeXt and SE variants.

The stem is three 3x3 convolutions instead of one 7x7, residual blocks downsample their shortcut
with an average pool before a 1x1 conv, and every block's last norm starts with gamma 0 so the
network starts close to the identity. Options: grouped convolutions (ResNeXt), squeeze-excite
gates (`xse_*`), extra stages (`*_deep`, `*_deeper`), another activation (`act_cls=Mish`) and a
self-attention layer (`sa=True`). An `XResNet` is an `nn.Sequential`: stem convs, max pool,
stages, then pool, flatten, dropout and linear (so `vision_learner` cuts it before the pool).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.train.nn.layers import ConvLayer, Flatten, ResBlock
from layered.vision.errors import VisionError

__all__ = [
    "XResNet",
    "init_cnn",
    "resnext_block",
    "se_block",
    "se_resnext_block",
    "xresnet18",
    "xresnet18_deep",
    "xresnet18_deeper",
    "xresnet34",
    "xresnet34_deep",
    "xresnet34_deeper",
    "xresnet50",
    "xresnet50_deep",
    "xresnet50_deeper",
    "xresnet101",
    "xresnet152",
    "xresnext18",
    "xresnext34",
    "xresnext50",
    "xresnext101",
    "xse_resnet18",
    "xse_resnet34",
    "xse_resnet50",
    "xse_resnet101",
    "xse_resnet152",
    "xse_resnext18",
    "xse_resnext34",
    "xse_resnext50",
    "xse_resnext101",
]

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def init_cnn(model: nn.Module, init: Callable = nn.init.kaiming_normal_) -> nn.Module:
    """Initialise every conv and linear weight of `model` with `init` and zero their biases; returns `model`.

    Weights computed by a parametrisation (spectral or weight norm) keep their own initialisation.
    """
    with torch.no_grad():
        for m in model.modules():
            if not isinstance(m, _CONVS) or nn.utils.parametrize.is_parametrized(m):
                continue
            init(m.weight)
            if m.bias is not None:
                m.bias.zero_()
    return model


def se_block(expansion: int, ni: int, nf: int, reduction: int = 16, **kwargs) -> ResBlock:
    """A residual block with a squeeze-excite gate."""
    return ResBlock(expansion, ni, nf, reduction=reduction, **kwargs)


def resnext_block(
    expansion: int,
    ni: int,
    nf: int,
    groups: int = 32,
    base_width: int = 4,
    reduction: int | None = None,
    **kwargs,
) -> ResBlock:
    """A ResNeXt block: the strided conv has `groups` groups of `base_width * nf / 64` channels each."""
    width = math.floor(nf * base_width / 64) * groups
    return ResBlock(expansion, ni, nf, groups=groups, reduction=reduction, nh2=width, **kwargs)


def se_resnext_block(expansion: int, ni: int, nf: int, reduction: int = 16, **kwargs) -> ResBlock:
    """A ResNeXt block with a squeeze-excite gate."""
    return resnext_block(expansion, ni, nf, reduction=reduction, **kwargs)


def _max_pool(ndim: int) -> nn.Module:
    return getattr(nn, f"MaxPool{ndim}d")(kernel_size=3, stride=2, padding=1)


@register_serializable
class XResNet(nn.Sequential):
    """A ResNet with the bag-of-tricks stem and shortcuts, built from `block`s (e.g. `ResBlock`).

    `layers` gives the number of blocks per stage (stages past the fourth have 256 base channels),
    `expansion` is 1 for basic blocks and 4 for bottlenecks, `widen` scales the stage widths,
    `stem_szs` the stem's conv widths. `sa=True` adds self-attention to the last block of the
    stage four from the end; `p` is the dropout before the final linear layer; `ndim` 1, 2 or 3
    builds a network over sequences, images or volumes. Other keyword arguments go to every block.
    """

    def __init__(
        self,
        block: Callable[..., nn.Module],
        expansion: int,
        layers: Sequence[int],
        p: float = 0.0,
        c_in: int = 3,
        n_out: int = 1000,
        stem_szs: Sequence[int] = (32, 32, 64),
        widen: float = 1.0,
        sa: bool = False,
        act_cls: type[nn.Module] = nn.ReLU,
        ndim: int = 2,
        ks: int = 3,
        stride: int = 2,
        **kwargs,
    ):
        if len(layers) < 4 or any(n < 1 for n in layers):
            raise VisionError(
                f"XResNet: layers must give at least 4 stages of >= 1 block, got {list(layers)}"
            )
        if ks % 2 == 0:
            raise VisionError(f"XResNet: ks must be odd so that convolutions keep the size, got {ks}")
        stem_in = [c_in, *stem_szs]
        stem = [
            ConvLayer(
                stem_in[i], stem_in[i + 1], ks=ks, stride=stride if i == 0 else 1, act_cls=act_cls, ndim=ndim
            )
            for i in range(len(stem_szs))
        ]
        if not stem_szs or stem_szs[-1] % expansion:
            raise VisionError(
                f"XResNet: the stem's last width must be divisible by expansion={expansion}, got stem_szs={stem_szs}"
            )
        widths = [int(o * widen) for o in [64, 128, 256, 512] + [256] * (len(layers) - 4)]
        # blocks multiply their widths by `expansion`: the first stage's input is the stem's output
        widths = [stem_szs[-1] // expansion, *widths]
        sa_stage = len(layers) - 4
        stages = [
            self._stage(
                block,
                expansion,
                widths[i],
                widths[i + 1],
                n,
                stride=1 if i == 0 else 2,
                sa=sa and i == sa_stage,
                act_cls=act_cls,
                ndim=ndim,
                ks=ks,
                **kwargs,
            )
            for i, n in enumerate(layers)
        ]
        super().__init__(
            *stem,
            _max_pool(ndim),
            *stages,
            getattr(nn, f"AdaptiveAvgPool{ndim}d")(1),
            Flatten(),
            nn.Dropout(p),
            nn.Linear(widths[-1] * expansion, n_out),
        )
        init_cnn(self)

    @staticmethod
    def _stage(
        block: Callable[..., nn.Module],
        expansion: int,
        ni: int,
        nf: int,
        n_blocks: int,
        stride: int,
        sa: bool,
        **kwargs,
    ) -> nn.Sequential:
        return nn.Sequential(
            *[
                block(
                    expansion,
                    ni if i == 0 else nf,
                    nf,
                    stride=stride if i == 0 else 1,
                    sa=sa and i == n_blocks - 1,
                    **kwargs,
                )
                for i in range(n_blocks)
            ]
        )


# blocks per stage
_L18, _L34, _L101, _L152 = (2, 2, 2, 2), (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3)


def xresnet18(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-18: basic blocks, 2-2-2-2."""
    return XResNet(ResBlock, 1, _L18, n_out=n_out, **kwargs)


def xresnet34(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-34: basic blocks, 3-4-6-3."""
    return XResNet(ResBlock, 1, _L34, n_out=n_out, **kwargs)


def xresnet50(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-50: bottleneck blocks, 3-4-6-3."""
    return XResNet(ResBlock, 4, _L34, n_out=n_out, **kwargs)


def xresnet101(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-101: bottleneck blocks, 3-4-23-3."""
    return XResNet(ResBlock, 4, _L101, n_out=n_out, **kwargs)


def xresnet152(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-152: bottleneck blocks, 3-8-36-3."""
    return XResNet(ResBlock, 4, _L152, n_out=n_out, **kwargs)


def xresnet18_deep(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-18 with two extra one-block stages."""
    return XResNet(ResBlock, 1, (2, 2, 2, 2, 1, 1), n_out=n_out, **kwargs)


def xresnet34_deep(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-34 with two extra one-block stages."""
    return XResNet(ResBlock, 1, (3, 4, 6, 3, 1, 1), n_out=n_out, **kwargs)


def xresnet50_deep(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-50 with two extra one-block stages."""
    return XResNet(ResBlock, 4, (3, 4, 6, 3, 1, 1), n_out=n_out, **kwargs)


def xresnet18_deeper(n_out: int = 1000, **kwargs) -> XResNet:
    """An eight-stage XResNet of basic blocks, 2-2-1-1-1-1-1-1."""
    return XResNet(ResBlock, 1, (2, 2, 1, 1, 1, 1, 1, 1), n_out=n_out, **kwargs)


def xresnet34_deeper(n_out: int = 1000, **kwargs) -> XResNet:
    """An eight-stage XResNet of basic blocks, 3-4-6-3-1-1-1-1."""
    return XResNet(ResBlock, 1, (3, 4, 6, 3, 1, 1, 1, 1), n_out=n_out, **kwargs)


def xresnet50_deeper(n_out: int = 1000, **kwargs) -> XResNet:
    """An eight-stage XResNet of bottleneck blocks, 3-4-6-3-1-1-1-1."""
    return XResNet(ResBlock, 4, (3, 4, 6, 3, 1, 1, 1, 1), n_out=n_out, **kwargs)


def xresnext18(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-18: grouped basic blocks (32 groups), 2-2-2-2."""
    return XResNet(resnext_block, 1, _L18, n_out=n_out, **kwargs)


def xresnext34(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-34: grouped basic blocks (32 groups), 3-4-6-3."""
    return XResNet(resnext_block, 1, _L34, n_out=n_out, **kwargs)


def xresnext50(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-50: grouped bottleneck blocks (32 groups), 3-4-6-3."""
    return XResNet(resnext_block, 4, _L34, n_out=n_out, **kwargs)


def xresnext101(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-101: grouped bottleneck blocks (32 groups), 3-4-23-3."""
    return XResNet(resnext_block, 4, _L101, n_out=n_out, **kwargs)


def xse_resnet18(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-18 with squeeze-excite gates."""
    return XResNet(se_block, 1, _L18, n_out=n_out, **kwargs)


def xse_resnet34(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-34 with squeeze-excite gates."""
    return XResNet(se_block, 1, _L34, n_out=n_out, **kwargs)


def xse_resnet50(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-50 with squeeze-excite gates."""
    return XResNet(se_block, 4, _L34, n_out=n_out, **kwargs)


def xse_resnet101(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-101 with squeeze-excite gates."""
    return XResNet(se_block, 4, _L101, n_out=n_out, **kwargs)


def xse_resnet152(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNet-152 with squeeze-excite gates."""
    return XResNet(se_block, 4, _L152, n_out=n_out, **kwargs)


def xse_resnext18(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-18 with squeeze-excite gates."""
    return XResNet(se_resnext_block, 1, _L18, n_out=n_out, **kwargs)


def xse_resnext34(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-34 with squeeze-excite gates."""
    return XResNet(se_resnext_block, 1, _L34, n_out=n_out, **kwargs)


def xse_resnext50(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-50 with squeeze-excite gates."""
    return XResNet(se_resnext_block, 4, _L34, n_out=n_out, **kwargs)


def xse_resnext101(n_out: int = 1000, **kwargs) -> XResNet:
    """XResNeXt-101 with squeeze-excite gates."""
    return XResNet(se_resnext_block, 4, _L101, n_out=n_out, **kwargs)
