"""`DiffAugment`: the same random shifts and cut-outs for every image a GAN's critic sees, real or generated.

With few real images the critic learns them by heart within a few dozen epochs, and the
generator stops learning from its scores. Augmenting only the real images would teach the
generator to make augmented images; augmenting both, with transforms the generator's gradient
flows through, keeps the critic from memorising while the target stays the data itself (Zhao
et al., 2020, "Differentiable Augmentation for Data-Efficient GAN Training"). Put it in front of
the critic: `nn.Sequential(DiffAugment(), basic_critic(...))`. It acts in training mode only.
"""

from __future__ import annotations

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.vision.errors import VisionError

__all__ = ["DiffAugment"]


def _fraction(value: float, name: str) -> float:
    if not 0 <= value < 1:
        raise VisionError(f"DiffAugment: {name} is a fraction of the image's side in [0, 1), got {value!r}")
    return float(value)


@register_serializable
class DiffAugment(nn.Module):
    """In training mode, shift each image by whole pixels and optionally blank a square of it; else the identity.

    Each image of a `(bs, channels, height, width)` batch moves by up to `translate` of its height
    and width (drawn per image), the uncovered border set to `fill`; with `cutout` > 0 a square
    of that fraction of the side, at a random place, is set to `fill` too. Pixels are moved,
    not resampled, so gradients reach the generator unchanged. `fill` is the background value
    of the data as the critic sees it: -1 for dark backgrounds scaled to [-1, 1].
    """

    def __init__(self, translate: float = 0.125, cutout: float = 0.0, fill: float = 0.0):
        super().__init__()
        self.translate = _fraction(translate, "translate")
        self.cutout = _fraction(cutout, "cutout")
        self.fill = float(fill)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The augmented batch (a new tensor) in training mode; `x` itself in eval mode."""
        if not self.training:
            return x
        if x.ndim != 4:
            raise VisionError(
                f"DiffAugment: expected images (bs, channels, height, width), got shape {tuple(x.shape)}"
            )
        if self.translate:
            x = self._shift(x)
        if self.cutout:
            x = self._cut(x)
        return x

    def _shift(self, x: torch.Tensor) -> torch.Tensor:
        bs, _, h, w = x.shape
        sy, sx = round(self.translate * h), round(self.translate * w)
        padded = nn.functional.pad(x, (sx, sx, sy, sy), value=self.fill)
        dy = torch.randint(0, 2 * sy + 1, (bs, 1, 1), device=x.device)
        dx = torch.randint(0, 2 * sx + 1, (bs, 1, 1), device=x.device)
        rows = torch.arange(h, device=x.device)[None, :, None] + dy
        cols = torch.arange(w, device=x.device)[None, None, :] + dx
        batch = torch.arange(bs, device=x.device)[:, None, None]
        # channels last for the gather: padded[b, :, rows[b, i], cols[b, j]] for every output pixel
        return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)

    def _cut(self, x: torch.Tensor) -> torch.Tensor:
        bs, _, h, w = x.shape
        half_h, half_w = round(self.cutout * h) // 2, round(self.cutout * w) // 2
        cy = torch.randint(0, h, (bs, 1, 1), device=x.device)
        cx = torch.randint(0, w, (bs, 1, 1), device=x.device)
        inside_rows = (torch.arange(h, device=x.device)[None, :, None] - cy).abs() <= half_h
        inside_cols = (torch.arange(w, device=x.device)[None, None, :] - cx).abs() <= half_w
        return x.masked_fill((inside_rows & inside_cols)[:, None], self.fill)

    def extra_repr(self) -> str:
        return f"translate={self.translate}, cutout={self.cutout}, fill={self.fill}"
