"""A U-Net built on any encoder: `DynamicUnet`, its `UnetBlock`, and `unet_learner` for segmentation.

The encoder (e.g. `create_body(resnet34)`) is an `nn.Sequential`; a dummy batch of `img_size`
finds the children after which the feature map shrinks (`model_sizes`, which hooks every child).
Their outputs become the skip connections, which the decoder's `UnetBlock`s upsample back to
(`PixelShuffle_ICNR`) and merge with. Where sizes do not halve exactly (odd input sizes), the
upsampled map is interpolated to the skip's size, and the output to the input's size. The skips
are collected by running the encoder child by child, so the model holds no hooks and exports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from layered.core.delegation import delegates
from layered.core.registry import register_serializable
from layered.train.learner import Learner
from layered.train.nn.hooks import model_sizes
from layered.train.nn.layers import (
    BatchNorm,
    ConvLayer,
    NormType,
    PixelShuffle_ICNR,
    ResBlock,
    SelfAttention,
    SigmoidRange,
)
from layered.vision.errors import VisionError
from layered.vision.learner import BodyHeadSplitter, arch_meta, create_body, get_c, normalize_dls
from layered.vision.xresnet import init_cnn

__all__ = ["DynamicUnet", "UnetBlock", "unet_learner"]


def _pair(size: Any) -> tuple[int, int]:
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or any(not isinstance(s, int) or s < 1 for s in pair):
        raise VisionError(f"img_size must be an int or a (height, width) pair of positive ints, got {size!r}")
    return pair


@register_serializable
class UnetBlock(nn.Module):
    """Upsample the decoder's map (`up_in_c` channels) 2x, concatenate the normalised skip (`x_in_c`), two convs.

    The convs keep the concatenated width (`final_div`) or halve it; `self_attention` adds a
    `SelfAttention` after the second.
    """

    def __init__(
        self,
        up_in_c: int,
        x_in_c: int,
        final_div: bool = True,
        blur: bool = False,
        act_cls: type[nn.Module] = nn.ReLU,
        self_attention: bool = False,
        init: Callable | None = nn.init.kaiming_normal_,
        norm_type: NormType | None = None,
        **kwargs,
    ):
        super().__init__()
        self.shuf = PixelShuffle_ICNR(up_in_c, up_in_c // 2, blur=blur, act_cls=act_cls, norm_type=norm_type)
        self.bn = BatchNorm(x_in_c)
        ni = up_in_c // 2 + x_in_c
        nf = ni if final_div else ni // 2
        self.conv1 = ConvLayer(ni, nf, act_cls=act_cls, norm_type=norm_type, **kwargs)
        xtra = SelfAttention(nf) if self_attention else None
        self.conv2 = ConvLayer(nf, nf, act_cls=act_cls, norm_type=norm_type, xtra=xtra, **kwargs)
        self.act = act_cls()
        if init is not None:
            init_cnn(nn.Sequential(self.conv1[0], self.conv2[0]), init)

    def forward(self, up_in: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """Merge the upsampled `up_in` with `skip` (resized to it when the encoder's sizes did not halve)."""
        up = self.shuf(up_in)
        if up.shape[-2:] != skip.shape[-2:]:
            up = F.interpolate(up, skip.shape[-2:], mode="nearest")
        return self.conv2(self.conv1(self.act(torch.cat([up, self.bn(skip)], dim=1))))


@register_serializable
class DynamicUnet(nn.Module):
    """A U-Net whose decoder is sized, for `encoder` and inputs of `img_size`, by a dummy forward pass.

    `n_out` output channels per pixel, at the input's size. `blur` smooths every upsampling but
    the last unless `blur_final`; `self_attention` adds attention in the third block from the end;
    `last_cross` concatenates the input before a final residual block (halving it with `bottle`);
    `y_range` squashes the outputs into `(low, high)`. Other keyword arguments go to the convs.
    """

    def __init__(
        self,
        encoder: nn.Sequential,
        n_out: int,
        img_size: int | tuple[int, int],
        blur: bool = False,
        blur_final: bool = True,
        self_attention: bool = False,
        y_range: tuple[float, float] | None = None,
        last_cross: bool = True,
        bottle: bool = False,
        act_cls: type[nn.Module] = nn.ReLU,
        init: Callable | None = nn.init.kaiming_normal_,
        norm_type: NormType | None = None,
        **kwargs,
    ):
        super().__init__()
        if not isinstance(encoder, nn.Sequential):
            raise VisionError(
                f"DynamicUnet needs an nn.Sequential encoder whose children run in turn, got {type(encoder).__name__}"
            )
        img_size = _pair(img_size)
        sizes = model_sizes(encoder, img_size)
        self.encoder = encoder
        # the last child before each shrink of the feature map: its output is a skip connection
        self.skip_idxs = [i for i in range(len(sizes) - 1) if sizes[i][-2:] != sizes[i + 1][-2:]]
        if not self.skip_idxs:
            raise VisionError(
                f"DynamicUnet: the encoder's feature map never shrinks for img_size={img_size}; "
                "a U-Net needs a downsampling encoder"
            )
        conv_kw = dict(act_cls=act_cls, norm_type=norm_type, **kwargs)
        was_training = encoder.training
        self.eval()
        with torch.no_grad():
            first = next(p for p in encoder.parameters() if p.ndim >= 2)
            x = torch.zeros(1, first.shape[1], *img_size, device=first.device, dtype=first.dtype)
            n_in = x.shape[1]
            x, skips = self._encode(x)
            ni = x.shape[1]
            self.middle = (
                nn.Sequential(
                    BatchNorm(ni),
                    nn.ReLU(),
                    ConvLayer(ni, ni * 2, **conv_kw),
                    ConvLayer(ni * 2, ni, **conv_kw),
                )
                .to(first)
                .eval()
            )
            x = self.middle(x)
            ups = []
            for i, skip in enumerate(reversed(skips)):
                not_final = i != len(skips) - 1
                block = UnetBlock(
                    x.shape[1],
                    skip.shape[1],
                    final_div=not_final,
                    blur=blur and (not_final or blur_final),
                    self_attention=self_attention and i == len(skips) - 3,
                    init=init,
                    **conv_kw,
                )
                ups.append(block.to(first).eval())
                x = block(x, skip)
            self.ups = nn.ModuleList(ups)
            ni = x.shape[1]
            self.final_up = (
                PixelShuffle_ICNR(ni, act_cls=act_cls, norm_type=norm_type)
                if tuple(x.shape[-2:]) != img_size
                else nn.Identity()
            )
        self.last_cross = last_cross
        if last_cross:
            ni += n_in
            self.cross = ResBlock(1, ni, ni // 2 if bottle else ni, **conv_kw)
            ni = ni // 2 if bottle else ni
        self.final = ConvLayer(ni, n_out, ks=1, act_cls=None, norm_type=norm_type, **kwargs)
        self.y_range = SigmoidRange(*y_range) if y_range is not None else nn.Identity()
        if init is not None:
            init_cnn(self.middle, init)
            if last_cross:
                init_cnn(self.cross, init)
        self.to(first.device).train(was_training)

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        for i, layer in enumerate(self.encoder):
            x = layer(x)
            if i in self.skip_idxs:
                skips.append(x)
        return x, skips

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-pixel outputs `(bs, n_out, h, w)` for inputs `(bs, c, h, w)`."""
        inp = x
        x, skips = self._encode(x)
        x = self.middle(x)
        for block, skip in zip(self.ups, reversed(skips)):
            x = block(x, skip)
        x = self.final_up(x)
        if x.shape[-2:] != inp.shape[-2:]:
            x = F.interpolate(x, inp.shape[-2:], mode="nearest")
        if self.last_cross:
            x = self.cross(torch.cat([x, inp], dim=1))
        return self.y_range(self.final(x))


@delegates(Learner.__init__)
def unet_learner(
    dls: Any,
    arch: Callable,
    normalize: bool = True,
    n_out: int | None = None,
    pretrained: bool = True,
    weights: Any = None,
    cut: int | Callable | None = None,
    n_in: int = 3,
    img_size: int | tuple[int, int] | None = None,
    blur: bool = False,
    blur_final: bool = True,
    self_attention: bool = False,
    y_range: tuple[float, float] | None = None,
    last_cross: bool = True,
    bottle: bool = False,
    act_cls: type[nn.Module] = nn.ReLU,
    init: Callable | None = nn.init.kaiming_normal_,
    norm_type: NormType | None = None,
    splitter: Callable | None = None,
    **kwargs: Any,
) -> Learner:
    """A `Learner` for segmentation `dls`: a `DynamicUnet` on `arch`'s body.

    `n_out` defaults to the number of mask codes, `img_size` to the size of a training batch's
    images, the loss to the data's or per-pixel cross entropy. With `pretrained`, the
    architecture's normalisation is added to the data (when `normalize`) and the encoder is frozen
    (but for its norm layers when `train_bn`). Other keyword arguments go to `Learner`.
    """
    meta = arch_meta(arch)
    n_out = get_c(dls) if n_out is None else n_out
    if not n_out:
        raise VisionError(
            "unet_learner could not tell the number of classes: give the mask codes to the data "
            "(MaskBlock(codes) or codes=...) or pass n_out="
        )
    if img_size is None:
        b = dls.one_batch()
        img_size = tuple((b[0] if isinstance(b, tuple) else b).shape[-2:])
    if normalize and pretrained and meta["stats"] is not None:
        normalize_dls(dls, meta["stats"])
    encoder = create_body(arch, n_in=n_in, pretrained=pretrained, cut=cut, weights=weights)
    model = DynamicUnet(
        encoder,
        n_out,
        img_size,
        blur=blur,
        blur_final=blur_final,
        self_attention=self_attention,
        y_range=y_range,
        last_cross=last_cross,
        bottle=bottle,
        act_cls=act_cls,
        init=init,
        norm_type=norm_type,
    )
    learn = Learner(
        dls,
        model,
        splitter=splitter if splitter is not None else BodyHeadSplitter(meta["split"]),
        **kwargs,
    )
    if pretrained:
        learn.freeze()
    return learn
