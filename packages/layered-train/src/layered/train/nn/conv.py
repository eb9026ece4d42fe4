"""Convolution bricks: `ConvLayer` (conv + norm + activation), norm layers and ICNR upsampling."""

from __future__ import annotations

import enum
from collections.abc import Callable

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.train.errors import TrainError

__all__ = ["BatchNorm", "ConvLayer", "InstanceNorm", "NormType", "PixelShuffle_ICNR", "icnr_init"]


@register_serializable
class NormType(enum.Enum):
    """How `ConvLayer` normalises: batch or instance norm (the `Zero` kinds start with gamma 0), or
    a reparametrisation of the conv weight (weight norm, spectral norm)."""

    Batch = 1
    BatchZero = 2
    Weight = 3
    Spectral = 4
    Instance = 5
    InstanceZero = 6


_BATCH = (NormType.Batch, NormType.BatchZero)
_INSTANCE = (NormType.Instance, NormType.InstanceZero)
_ZERO = (NormType.BatchZero, NormType.InstanceZero)
# activations whose He-init gain is known; others keep torch's default init
_RELU_LIKE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)


def _check_ndim(ndim: int, what: str) -> None:
    if ndim not in (1, 2, 3):
        raise TrainError(f"{what} supports ndim 1, 2 or 3, got ndim={ndim}")


def _norm(prefix: str, nf: int, norm_type: NormType, ndim: int, **kwargs) -> nn.Module:
    _check_ndim(ndim, f"{prefix}Norm")
    norm = getattr(nn, f"{prefix}Norm{ndim}d")(nf, **kwargs)
    if norm.affine:
        with torch.no_grad():
            norm.bias.zero_()
            # a zero gamma makes a residual branch start as the identity (Goyal et al., 2017)
            norm.weight.fill_(0.0 if norm_type in _ZERO else 1.0)
    return norm


def BatchNorm(nf: int, norm_type: NormType = NormType.Batch, ndim: int = 2, **kwargs) -> nn.Module:
    """A `BatchNorm{ndim}d` with bias 0 and gamma 1 (0 for `NormType.BatchZero`)."""
    return _norm("Batch", nf, norm_type, ndim, **kwargs)


def InstanceNorm(
    nf: int, norm_type: NormType = NormType.Instance, ndim: int = 2, affine: bool = True, **kwargs
) -> nn.Module:
    """An affine `InstanceNorm{ndim}d` with bias 0 and gamma 1 (0 for `NormType.InstanceZero`)."""
    return _norm("Instance", nf, norm_type, ndim, affine=affine, **kwargs)


def _init_conv(conv: nn.Module, act: nn.Module | None, init: str | Callable | None) -> None:
    if init == "auto":
        if not isinstance(act, _RELU_LIKE):
            return
        slope = act.negative_slope if isinstance(act, nn.LeakyReLU) else 0.0
        init = lambda w: nn.init.kaiming_normal_(w, a=slope, nonlinearity="leaky_relu")
    elif init is None:
        return
    elif not callable(init):
        raise TrainError(f"ConvLayer init must be 'auto', None or a function of the weight, got {init!r}")
    with torch.no_grad():
        init(conv.weight)
        if conv.bias is not None:
            conv.bias.zero_()


@register_serializable
class ConvLayer(nn.Sequential):
    """A convolution followed by normalisation and an activation.

    `norm_type` picks batch or instance norm (placed before the activation when `bn_1st`), weight
    or spectral norm on the conv weight, or none (`None`). The conv has a bias only when no batch
    or instance norm follows. `init='auto'` gives He-normal weights when the activation is in the
    ReLU family; a function is applied to the weight; `None` keeps torch's init. `xtra` is an
    extra module added at the end; other keyword arguments go to the conv.
    """

    def __init__(
        self,
        ni: int,
        nf: int,
        ks: int = 3,
        stride: int = 1,
        padding: int | None = None,
        bias: bool | None = None,
        ndim: int = 2,
        norm_type: NormType | None = NormType.Batch,
        bn_1st: bool = True,
        act_cls: type[nn.Module] | None = nn.ReLU,
        transpose: bool = False,
        init: str | Callable | None = "auto",
        xtra: nn.Module | None = None,
        **kwargs,
    ):
        _check_ndim(ndim, "ConvLayer")
        if norm_type is not None and not isinstance(norm_type, NormType):
            raise TrainError(f"ConvLayer norm_type must be a NormType or None, got {norm_type!r}")
        if padding is None:
            padding = 0 if transpose else (ks - 1) // 2
        bn, inn = norm_type in _BATCH, norm_type in _INSTANCE
        if bias is None:
            bias = not (bn or inn)
        conv_cls = getattr(nn, f"Conv{'Transpose' if transpose else ''}{ndim}d")
        conv = conv_cls(ni, nf, kernel_size=ks, stride=stride, padding=padding, bias=bias, **kwargs)
        act = act_cls() if act_cls is not None else None
        _init_conv(conv, act, init)
        if norm_type == NormType.Weight:
            conv = nn.utils.parametrizations.weight_norm(conv)
        elif norm_type == NormType.Spectral:
            conv = nn.utils.parametrizations.spectral_norm(conv)
        post = [act] if act is not None else []
        if bn:
            post.append(BatchNorm(nf, norm_type, ndim))
        elif inn:
            post.append(InstanceNorm(nf, norm_type, ndim))
        if bn_1st:
            post.reverse()
        super().__init__(conv, *post, *([xtra] if xtra is not None else []))


def icnr_init(weight: torch.Tensor, scale: int = 2, init: Callable = nn.init.kaiming_normal_) -> torch.Tensor:
    """Fill a conv `weight` in place with ICNR (Aitken et al., 2017) for a pixel shuffle of `scale`.

    The `scale**2` output channels that a pixel shuffle gathers into one output channel get the
    same kernel, so the shuffled output starts as a nearest-neighbour upsampling, free of
    checkerboard artefacts. Returns `weight`.
    """
    groups = scale**2
    if weight.shape[0] % groups:
        raise TrainError(
            f"icnr_init needs output channels divisible by scale**2={groups}, got weight {tuple(weight.shape)}"
        )
    kernel = init(torch.empty(weight.shape[0] // groups, *weight.shape[1:]))
    with torch.no_grad():
        weight.copy_(kernel.repeat_interleave(groups, dim=0))
    return weight


@register_serializable
class PixelShuffle_ICNR(nn.Sequential):
    """Upsample by `scale`: a 1x1 `ConvLayer` to `nf * scale**2` channels (ICNR init), then a pixel shuffle.

    With `blur`, a replication pad and a 2x2 average pool of stride 1 smooth the result
    (Sugawara et al., 2019). `nf` defaults to `ni`.
    """

    def __init__(
        self,
        ni: int,
        nf: int | None = None,
        scale: int = 2,
        blur: bool = False,
        norm_type: NormType | None = NormType.Weight,
        act_cls: type[nn.Module] | None = nn.ReLU,
    ):
        nf = ni if nf is None else nf
        layers = [
            ConvLayer(
                ni,
                nf * scale**2,
                ks=1,
                norm_type=norm_type,
                act_cls=act_cls,
                bn_1st=False,
                init=lambda w: icnr_init(w, scale),
            ),
            nn.PixelShuffle(scale),
        ]
        if blur:
            layers += [nn.ReplicationPad2d((1, 0, 1, 0)), nn.AvgPool2d(2, stride=1)]
        super().__init__(*layers)
