"""Batch augmentation as a whole: `aug_transforms` with the paper's defaults, merging, random erasing.

```python
dls = dblock.dataloaders(path, batch_tfms=[*aug_transforms(size=224, min_scale=0.75),
                                           Normalize.from_stats(*imagenet_stats)])
```
`aug_transforms` returns at most one affine/perspective transform and one lighting transform
(plus the validation resize when `size` is given): consecutive transforms of each family are
merged by `compose_augmentations`, so a batch is resampled once and relit once however many
augmentations are asked for. Pass your own list through `compose_augmentations` to get the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from layered.core.registry import register_serializable
from layered.core.tensor_types import retain_type
from layered.core.transform import Transform
from layered.vision.affine import AffineCoordTfm, Dihedral, Flip, RandomResizedCropGPU, Rotate, Warp, Zoom
from layered.vision.errors import VisionError
from layered.vision.lighting import Brightness, Contrast, LightingTfm
from layered.vision.types import TensorImage

__all__ = ["RandomErasing", "aug_transforms", "compose_augmentations"]


def _mergeable(a: Any, b: Any) -> bool:
    if isinstance(a, LightingTfm) and isinstance(b, LightingTfm):
        return a.split_idx == b.split_idx
    if isinstance(a, AffineCoordTfm) and isinstance(b, AffineCoordTfm):
        same = (a.split_idx, a.mode, a.pad_mode, a.align_corners) == (
            b.split_idx,
            b.mode,
            b.pad_mode,
            b.align_corners,
        )
        return same and (a.size is None or b.size is None or a.size == b.size)
    return False


def compose_augmentations(tfms: Sequence[Transform]) -> list[Transform]:
    """`tfms` in the order they run (by `order`), each run of affine or of lighting transforms merged into one."""
    out: list[Transform] = []
    for t in sorted(tfms, key=lambda t: t.order):
        if out and _mergeable(out[-1], t):
            out[-1] = out[-1].compose(t)
        else:
            out.append(t)
    return out


def aug_transforms(
    mult: float = 1.0,
    do_flip: bool = True,
    flip_vert: bool = False,
    max_rotate: float = 10.0,
    min_zoom: float = 1.0,
    max_zoom: float = 1.1,
    max_lighting: float = 0.2,
    max_warp: float = 0.2,
    p_affine: float = 0.75,
    p_lighting: float = 0.75,
    xtra_tfms: Sequence[Transform] | None = None,
    size: int | Sequence[int] | None = None,
    mode: str = "bilinear",
    pad_mode: str = "reflection",
    align_corners: bool = True,
    min_scale: float = 1.0,
) -> list[Transform]:
    """The standard batch augmentations, merged: flip (or all 8 dihedral symmetries with `flip_vert`),
    perspective warp, rotation, zoom, brightness and contrast; `mult` scales the rotation, lighting
    and warp ranges. With `size`, batches are resized (training: a random crop of at least
    `min_scale` of the area when `min_scale < 1`; validation: the largest centred crop).
    """
    max_rotate, max_lighting, max_warp = max_rotate * mult, max_lighting * mult, max_warp * mult
    if min_scale != 1.0 and size is None:
        raise VisionError(f"aug_transforms: min_scale={min_scale} crops at random, which needs a size")
    settings = {"mode": mode, "pad_mode": pad_mode, "align_corners": align_corners}
    parts: list = []
    if min_scale != 1.0:
        # cropping first lets the later rotation and warp fill the corners with real pixels
        parts.append(RandomResizedCropGPU(size, min_scale=min_scale, ratio=(1.0, 1.0), **settings))
    if do_flip:
        parts.append(Dihedral(p=0.5, **settings) if flip_vert else Flip(p=0.5, **settings))
    if max_warp:
        parts.append(Warp(magnitude=max_warp, p=p_affine, **settings))
    if max_rotate:
        parts.append(Rotate(max_deg=max_rotate, p=p_affine, **settings))
    if min_zoom < 1 or max_zoom > 1:
        parts.append(Zoom(min_zoom=min_zoom, max_zoom=max_zoom, p=p_affine, **settings))
    tfms: list[Transform] = [AffineCoordTfm(parts, size, **settings)] if parts or size is not None else []
    if max_lighting:
        tfms.append(Brightness(max_lighting=max_lighting, p=p_lighting))
        tfms.append(Contrast(max_lighting=max_lighting, p=p_lighting))
    tfms = compose_augmentations([*tfms, *(xtra_tfms or [])])
    # added after merging, so that a validation resize never separates two training transforms
    valid = [
        v for t in tfms if isinstance(t, AffineCoordTfm) and t.split_idx == 0 and (v := t.for_validation())
    ]
    return compose_augmentations([*tfms, *valid])


@register_serializable
class RandomErasing(Transform):
    """Replace up to `max_count` random rectangles per image with N(0, 1) noise, each sample with probability `p`.

    Each image gets between 1 and `max_count` rectangles sharing an area fraction drawn in
    `[sl, sh]`, with aspect ratios log-uniform in `[min_aspect, 1 / min_aspect]`. The noise
    matches normalized data, so it runs after `Normalize` (its `order` puts it there).
    """

    order = 100
    split_idx = 0

    def __init__(
        self, p: float = 0.5, sl: float = 0.0, sh: float = 0.3, min_aspect: float = 0.3, max_count: int = 1
    ):
        super().__init__()
        if not 0 <= p <= 1:
            raise VisionError(f"RandomErasing: p={p!r}; expected a probability in [0, 1]")
        if not 0 <= sl <= sh <= 1:
            raise VisionError(f"RandomErasing: expected 0 <= sl <= sh <= 1, got sl={sl}, sh={sh}")
        if not 0 < min_aspect <= 1 or max_count < 1:
            raise VisionError(
                f"RandomErasing: min_aspect={min_aspect}, max_count={max_count}; expected 0 < min_aspect <= 1 "
                "and max_count >= 1"
            )
        self.p, self.sl, self.sh, self.min_aspect, self.max_count = p, sl, sh, min_aspect, max_count

    def regions(self, n: int, h: int, w: int) -> torch.Tensor:
        """A random `n×h×w` boolean map of the pixels to erase (on the CPU)."""
        k = self.max_count
        count = torch.randint(1, k + 1, (n,))
        on = (torch.rand(n) < self.p)[:, None] & (torch.arange(k)[None] < count[:, None])
        area = (torch.rand(n, k) * (self.sh - self.sl) + self.sl) / count[:, None]
        log_aspect = math.log(self.min_aspect)
        aspect = (torch.rand(n, k) * -2 * log_aspect + log_aspect).exp()
        hf, wf = (area * aspect).sqrt().clamp(max=1), (area / aspect).sqrt().clamp(max=1)
        top, left = torch.rand(n, k) * (1 - hf), torch.rand(n, k) * (1 - wf)

        def span(start: torch.Tensor, length: torch.Tensor, size: int) -> torch.Tensor:
            pos = torch.arange(size)
            lo, hi = (start * size).round()[..., None], ((start + length) * size).round()[..., None]
            return (pos >= lo) & (pos < hi)

        rows = span(top, hf, h) & on[..., None]
        return (rows[..., :, None] & span(left, wf, w)[..., None, :]).any(1)

    def encodes(self, x: TensorImage):
        plain = x.as_subclass(torch.Tensor)
        if plain.ndim != 4 or not plain.is_floating_point():
            raise VisionError(
                f"RandomErasing: got a {plain.dtype} batch of shape {tuple(plain.shape)}; expected N×C×H×W floats"
            )
        n, c, h, w = plain.shape
        region = self.regions(n, h, w)
        count = int(region.sum()) * c  # known on the CPU: no device sync
        if not count:
            return x
        where = region[:, None].expand(n, c, h, w).to(plain.device)
        out = plain.clone()
        out[where] = torch.randn(count, device=plain.device, dtype=plain.dtype)
        return retain_type(out, x, copy_meta=True)
