"""Fixed flips and quarter turns: deterministic views of a batch, for test-time augmentation.

```python
preds, targs = learn.tta(tfms=dihedral_views())   # the mean of the predictions on the 8 views
preds, targs = learn.tta(tfms=flip_views())       # the image and its mirror
```
`Flip` and `Dihedral` (in `layered.vision.affine`) draw a symmetry at random and run on training
batches only. `FixedFlip` and `FixedDihedral(k)` apply one given symmetry to every batch, on
every split, with exact tensor operations (`flip`, `transpose`): no resampling, so a pixel's
value is moved, never interpolated. Symmetry `k` is numbered as in `Dihedral`: bit 0 mirrors
left-right, bit 1 upside down, bit 2 swaps the axes (applied first), so on a square image
`FixedDihedral(k)` is `Dihedral` with probability 1 drawing `k`. Images, masks, points and
boxes move together. A swap of a non-square image swaps its height and width (`Dihedral`
resamples into the same size instead).
"""

from __future__ import annotations

import torch

from layered.core.registry import register_serializable
from layered.core.tensor_types import retain_type
from layered.core.transform import Transform
from layered.vision.errors import VisionError
from layered.vision.types import TensorBBox, TensorImage, TensorMask, TensorPoint

__all__ = ["FixedDihedral", "FixedFlip", "dihedral_views", "flip_views"]


def _coords(t: torch.Tensor, k: int) -> torch.Tensor:
    """Points `(..., 2)` or boxes `(..., 4)` in [-1, 1] under symmetry `k` (sizes recorded swapped on a swap)."""
    plain = t.as_subclass(torch.Tensor)
    xy = plain.reshape(*plain.shape[:-1], -1, 2)
    if k & 4:
        xy = xy.flip(-1)
    signs = xy.new_tensor([-1.0 if k & 1 else 1.0, -1.0 if k & 2 else 1.0])
    xy = xy * signs
    res = xy.reshape(plain.shape)
    if isinstance(t, TensorBBox):  # a mirrored box's corners change places: (x1, y1) stays the smaller
        lo, hi = res[..., :2], res[..., 2:]
        res = torch.cat([torch.minimum(lo, hi), torch.maximum(lo, hi)], -1)
    res = retain_type(res, t, copy_meta=True)
    size = getattr(t, "img_size", None)
    if size is not None and k & 4:
        res.img_size = (size[1], size[0])
    return res


def _pixels(t: torch.Tensor, k: int) -> torch.Tensor:
    """An image or mask (height and width its last two axes) under symmetry `k`."""
    plain = t.as_subclass(torch.Tensor)
    if plain.ndim < 2:
        raise VisionError(
            f"FixedDihedral: a {type(t).__name__} of shape {tuple(t.shape)} has no height and width"
        )
    if k & 4:
        plain = plain.transpose(-2, -1)
    dims = [d for bit, d in ((1, -1), (2, -2)) if k & bit]
    if dims:
        plain = plain.flip(dims)
    return retain_type(plain.contiguous(), t, copy_meta=True)


@register_serializable
class FixedDihedral(Transform):
    """Apply symmetry `k` of the square (0-7, numbered as in `Dihedral`) to every image, mask, point and box.

    Runs on every split: a deterministic view for test-time augmentation (`dihedral_views`).
    """

    order = 20  # after IntToFloatTensor, before the random affine augmentations and Normalize

    def __init__(self, k: int):
        if not isinstance(k, int) or not 0 <= k <= 7:
            raise VisionError(f"FixedDihedral: k={k!r}; expected a symmetry index, an int in 0..7")
        super().__init__()
        self.k = k

    def encodes(self, x: TensorImage):
        return _pixels(x, self.k)

    def encodes(self, x: TensorMask):  # noqa: F811 - several encodes, dispatched by type
        return _pixels(x, self.k)

    def encodes(self, x: TensorPoint):  # noqa: F811
        return _coords(x, self.k)

    def encodes(self, x: TensorBBox):  # noqa: F811
        return _coords(x, self.k)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.k})"


@register_serializable
class FixedFlip(FixedDihedral):
    """Mirror every image, mask, point and box left-right (or, with `vertical`, upside down), on every split."""

    def __init__(self, vertical: bool = False):
        super().__init__(2 if vertical else 1)
        self.vertical = vertical

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vertical={self.vertical})"


def dihedral_views() -> list[FixedDihedral]:
    """The 8 symmetries of the square, the identity first: `learn.tta(tfms=dihedral_views())`."""
    return [FixedDihedral(k) for k in range(8)]


def flip_views() -> list[FixedDihedral]:
    """The identity and the left-right mirror: `learn.tta(tfms=flip_views())`."""
    return [FixedDihedral(0), FixedFlip()]
