"""Affine and perspective batch augmentation, composed into one resampling per batch.

```python
tfm = Flip().compose(Rotate(max_deg=10)).compose(Zoom(max_zoom=1.1)).compose(Warp())
x, mask, pts = tfm((x, mask, pts))      # one 3x3 matrix per sample, one grid_sample per tensor
```
Every transform here is a per-sample 3x3 *sampling* matrix `M`: the output pixel at `p` takes the
input's value at `M p` (with a perspective divide), in the coordinates of the vision types (-1
and 1 are the image's edges), so pixels and points move alike at any size; `align_corners` only
changes how `grid_sample` pads past the border. Transforms applied in turn compose into the
product of their matrices, so a chain of them resamples the image once instead of blurring it
once per step. Images interpolate with `mode`, masks with nearest neighbour (so they keep only
the codes they had), points and boxes are moved by the inverse map (boxes through their four
corners, then clipped to the image; a box left with no area becomes all zeros, and its label,
the integer tensor that follows the boxes in the batch, becomes 0, the padding label). Random
parameters are drawn per sample on the CPU (so a seed gives the same augmentation on any
device), and each transform applies to a sample with probability `p`. All run on training
batches only, except the resize a `size` asks for (see `for_validation`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from layered.core.registry import register_serializable
from layered.core.tensor_types import retain_type
from layered.core.transform import ItemTransform
from layered.vision.errors import VisionError
from layered.vision.types import TensorBBox, TensorImage, TensorMask, TensorPoint

__all__ = [
    "AffineCoordTfm",
    "Dihedral",
    "Flip",
    "RandomResizedCropGPU",
    "Rotate",
    "Warp",
    "Zoom",
]

Size = tuple[int, int]  # (height, width), in the order of a tensor's dimensions


def _eye(n: int) -> torch.Tensor:
    return torch.eye(3).expand(n, 3, 3).clone()


def _uniform(n: int, low: float, high: float) -> torch.Tensor:
    return torch.rand(n) * (high - low) + low


def _log_uniform(n: int, low: float, high: float) -> torch.Tensor:
    return _uniform(n, math.log(low), math.log(high)).exp()


def _as_size(size: int | Sequence[int] | None) -> Size | None:
    if size is None:
        return None
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    if int(h) != h or int(w) != w or h < 2 or w < 2:
        raise VisionError(f"size {size!r}: expected an int or (height, width) of at least 2 pixels")
    return int(h), int(w)


def _homography(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """The `n×3×3` projective matrices taking the 4 points `src` (`4×2`) to `dst` (`n×4×2`)."""
    n = dst.shape[0]
    x, y = src[:, 0].expand(n, 4), src[:, 1].expand(n, 4)
    u, v = dst[..., 0], dst[..., 1]
    one, zero = torch.ones_like(u), torch.zeros_like(u)
    rows_u = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], -1)
    rows_v = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], -1)
    a = torch.cat([rows_u, rows_v], 1).double()
    h = torch.linalg.solve(a, torch.cat([u, v], 1).double())
    return torch.cat([h, torch.ones(n, 1, dtype=h.dtype)], 1).reshape(n, 3, 3).float()


@register_serializable
class AffineCoordTfm(ItemTransform):
    """Resample a batch's images, masks, points and boxes through the product of `parts`' matrices.

    `parts` are the transforms composed (each `Flip`, `Rotate`, ... is a part of itself); `size`
    (int or (height, width)) resizes the output. With `split_idx=1` it is the deterministic
    validation version: each part contributes its `center` matrix (identity unless it crops).
    """

    order = 30
    split_idx = 0

    def __init__(
        self,
        parts: Sequence[_Part] = (),
        size: int | Sequence[int] | None = None,
        mode: str = "bilinear",
        pad_mode: str = "reflection",
        align_corners: bool = True,
        split_idx: int | None = 0,
    ):
        super().__init__(split_idx=split_idx)
        if mode not in ("bilinear", "nearest", "bicubic"):
            raise VisionError(
                f"{type(self).__name__}: mode {mode!r}; expected 'bilinear', 'nearest' or 'bicubic'"
            )
        if pad_mode not in ("zeros", "border", "reflection"):
            raise VisionError(
                f"{type(self).__name__}: pad_mode {pad_mode!r}; expected 'zeros', 'border' or 'reflection'"
            )
        self.split_idx = split_idx  # also None (every subset), which Transform's init leaves at the default
        self.parts = list(parts)
        self.size, self.mode, self.pad_mode = _as_size(size), mode, pad_mode
        self.align_corners = align_corners

    def draw(self, n: int, in_size: Size, out_size: Size) -> torch.Tensor:
        """The `n×3×3` sampling matrices of one batch: the product of the parts' matrices."""
        validation = self.split_idx == 1
        m = _eye(n)
        for part in self.parts:
            m = m @ (part.center if validation else part.random)(n, in_size, out_size)
        return m

    def compose(self, other: AffineCoordTfm) -> AffineCoordTfm:
        """One transform applying `self` then `other` with a single resampling."""
        if self.split_idx != other.split_idx:
            raise VisionError(f"cannot compose {self!r} and {other!r}: their split_idx differ")
        if self.size is not None and other.size is not None and self.size != other.size:
            raise VisionError(f"cannot compose transforms resizing to {self.size} and to {other.size}")
        settings = (self.mode, self.pad_mode, self.align_corners)
        if settings != (other.mode, other.pad_mode, other.align_corners):
            raise VisionError(
                f"cannot compose transforms with different (mode, pad_mode, align_corners): {settings} and "
                f"{(other.mode, other.pad_mode, other.align_corners)}"
            )
        return AffineCoordTfm(
            [*self.parts, *other.parts], self.size or other.size, *settings, split_idx=self.split_idx
        )

    def for_validation(self) -> AffineCoordTfm | None:
        """The validation counterpart (`split_idx=1`) resizing to `size` as training does; None without `size`."""
        if self.size is None:
            return None
        return AffineCoordTfm(
            self.parts, self.size, self.mode, self.pad_mode, self.align_corners, split_idx=1
        )

    def encodes(self, b: Any):  # no return annotation: the transform would cast its result to it
        first = next(
            (o for o in _elements(b) if isinstance(o, (TensorImage, TensorMask, TensorPoint, TensorBBox))),
            None,
        )
        if first is None:
            return b
        in_size = _size_of(b)
        return self.apply(b, self.draw(first.shape[0], in_size, self.size or in_size).to(first.device))

    def apply(self, b: Any, mats: torch.Tensor) -> Any:
        """Resample every image, mask, point and box of batch `b` with the given `n×3×3` sampling matrices."""
        in_size = _size_of(b)
        out_size = self.size or in_size
        grid, out, emptied = None, [], None
        for o in _elements(b):
            # the integer tensor right after the boxes holds their labels: emptied boxes get the pad label 0
            previous, emptied = emptied, None
            if isinstance(o, (TensorImage, TensorMask)):
                if grid is None:
                    grid = _grid(mats, in_size, out_size, self.align_corners)
                o = self._sample(o, grid)
            elif isinstance(o, TensorPoint):
                o = _with_size(retain_type(self._move(o, mats), o, copy_meta=True), out_size)
            elif isinstance(o, TensorBBox):
                boxes, emptied = self._boxes(o, mats)
                o = _with_size(retain_type(boxes, o, copy_meta=True), out_size)
            elif previous is not None and _labels_of(o, previous):
                o = o.masked_fill(previous, 0)
            out.append(o)
        return tuple(out) if isinstance(b, tuple) else out[0]

    def _sample(self, x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
        plain = x.as_subclass(torch.Tensor)
        mask = isinstance(x, TensorMask)
        if plain.ndim != (3 if mask else 4):
            raise VisionError(
                f"{self.name}: a {type(x).__name__} of shape {tuple(x.shape)}; a batch transform expects "
                f"a batch ({'N×H×W masks' if mask else 'N×C×H×W images'})"
            )
        if mask:
            res = F.grid_sample(plain[:, None].float(), grid, "nearest", self.pad_mode, self.align_corners)
            res = res[:, 0].round().to(plain.dtype)
        else:
            if not plain.is_floating_point():
                raise VisionError(
                    f"{self.name}: images are {plain.dtype}; expected floats (put IntToFloatTensor before it)"
                )
            res = F.grid_sample(plain, grid.to(plain.dtype), self.mode, self.pad_mode, self.align_corners)
        return retain_type(res, x, copy_meta=True)

    def _move(self, pts: torch.Tensor, mats: torch.Tensor) -> torch.Tensor:
        """Points `n×k×2` through the inverse of `mats` (from input to output coordinates)."""
        p = pts.as_subclass(torch.Tensor).float()
        inv = torch.linalg.inv(mats.float())
        q = p @ inv[:, :2, :2].transpose(1, 2) + inv[:, None, :2, 2]
        w = p @ inv[:, 2:, :2].transpose(1, 2) + inv[:, None, 2:, 2]
        return q / w

    def _boxes(self, boxes: torch.Tensor, mats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes `n×k×4` moved through their corners, clipped to [-1, 1]; also which became empty."""
        x1, y1, x2, y2 = boxes.as_subclass(torch.Tensor).float().unbind(-1)
        corners = torch.stack([x1, y1, x2, y1, x1, y2, x2, y2], -1).reshape(*x1.shape, 4, 2)
        moved = self._move(corners.flatten(1, 2), mats).reshape(corners.shape)
        lo, hi = moved.amin(-2).clamp(-1, 1), moved.amax(-2).clamp(-1, 1)
        empty = ((hi - lo) <= 0).any(-1) | ~torch.isfinite(moved).all(-1).all(-1)
        res = torch.cat([lo, hi], -1).masked_fill(empty[..., None], 0.0)
        return res, empty

    def __repr__(self) -> str:
        parts = ", ".join(type(p).__name__ for p in self.parts)
        return f"{self.name}([{parts}], size={self.size}, split_idx={self.split_idx})"


def _elements(b: Any) -> tuple:
    return b if isinstance(b, tuple) else (b,)


def _size_of(b: Any) -> Size:
    """`(height, width)` of the batch's images: from an image or mask, else the coordinates' `img_size`."""
    for o in _elements(b):
        if isinstance(o, (TensorImage, TensorMask)):
            return tuple(o.shape[-2:])
    for o in _elements(b):
        size = getattr(o, "img_size", None)
        if isinstance(o, (TensorPoint, TensorBBox)) and size is not None:
            return int(size[1]), int(size[0])
    raise VisionError("a batch with points or boxes but no image needs img_size on its coordinates")


def _labels_of(o: Any, boxes_emptied: torch.Tensor) -> bool:
    return isinstance(o, torch.Tensor) and not o.is_floating_point() and o.shape == boxes_emptied.shape


def _with_size(o: torch.Tensor, size: Size) -> torch.Tensor:
    if getattr(o, "img_size", None) is not None:
        o.img_size = (size[1], size[0])
    return o


def _grid(mats: torch.Tensor, in_size: Size, out_size: Size, align_corners: bool) -> torch.Tensor:
    """The `n×H×W×2` sampling grid of `mats` for an output of `out_size`, in `grid_sample`'s coordinates.

    `mats` act on the coordinates of the vision types (-1 and 1 are the image's edges, pixel
    centres in between), for points and pixels alike; with `align_corners`, where -1 and 1 are
    the centres of the border pixels instead, the result is rescaled to match.
    """
    (h, w), (hi, wi) = out_size, in_size
    m = mats.float()
    if align_corners:
        m = torch.tensor([wi / (wi - 1), hi / (hi - 1), 1.0], device=m.device)[:, None] * m

    def centres(k: int) -> torch.Tensor:
        return torch.linspace(-1, 1, k, device=m.device) * (k - 1) / k

    xs, ys = centres(w)[None, None, :], centres(h)[None, :, None]
    c = m[:, :, :, None, None]
    # Each coordinate is written once, straight into the grid: this runs over every output pixel.
    grid = torch.empty(m.shape[0], h, w, 2, device=m.device)
    torch.add(c[:, 0, 0] * xs + c[:, 0, 2], c[:, 0, 1] * ys, out=grid[..., 0])
    torch.add(c[:, 1, 0] * xs + c[:, 1, 2], c[:, 1, 1] * ys, out=grid[..., 1])
    if bool(m[:, 2, :2].any()):  # perspective: divide; the affine case skips that work
        grid.div_(((c[:, 2, 0] * xs + c[:, 2, 2]) + c[:, 2, 1] * ys)[..., None])
    return grid


@register_serializable
class _Part(AffineCoordTfm):
    """A transform that is one part of a composition (itself); subclasses define `sample` and `matrix`."""

    def __init__(self, p: float, size=None, mode="bilinear", pad_mode="reflection", align_corners=True):
        if not 0 <= p <= 1:
            raise VisionError(f"{type(self).__name__}: p={p!r}; expected a probability in [0, 1]")
        super().__init__((), size, mode, pad_mode, align_corners)
        self.parts, self.p = [self], p

    def random(self, n: int, in_size: Size, out_size: Size) -> torch.Tensor:
        """This part's random `n×3×3` matrices (the identity for a sample it skips, with probability 1-p)."""
        m = self.matrix(self.sample(n), in_size, out_size)
        skip = torch.rand(n) >= self.p
        return torch.where(skip[:, None, None], _eye(n), m)

    def center(self, n: int, in_size: Size, out_size: Size) -> torch.Tensor:
        """This part's validation matrices: the identity (crops override it)."""
        return _eye(n)


@register_serializable
class Flip(_Part):
    """Mirror left-right, each sample with probability `p`."""

    def __init__(self, p: float = 0.5, **kwargs: Any):
        super().__init__(p, **kwargs)

    def sample(self, n: int) -> torch.Tensor:
        """All ones: whether a sample flips is the probability `p` alone."""
        return torch.ones(n)

    def matrix(self, params: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
        """`x -> -x` where `params` is 1."""
        m = _eye(len(params))
        m[:, 0, 0] = 1 - 2 * params
        return m


@register_serializable
class Dihedral(_Part):
    """One of the 8 symmetries of the square (flips, quarter turns), each sample with probability `p`."""

    def __init__(self, p: float = 0.5, **kwargs: Any):
        super().__init__(p, **kwargs)

    def sample(self, n: int) -> torch.Tensor:
        """A symmetry index in 0..7 per sample: bit 0 flips x, bit 1 flips y, bit 2 swaps x and y."""
        return torch.randint(0, 8, (n,))

    def matrix(self, params: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
        """The symmetry matrices of the indices `params`."""
        k = params.long()
        fx, fy, swap = 1 - 2 * (k & 1).float(), 1 - 2 * ((k >> 1) & 1).float(), ((k >> 2) & 1).bool()
        m = _eye(len(k))
        m[:, 0, 0], m[:, 1, 1] = fx, fy
        swapped = torch.zeros_like(m)
        swapped[:, 0, 1], swapped[:, 1, 0], swapped[:, 2, 2] = fy, fx, 1
        return torch.where(swap[:, None, None], swapped, m)


@register_serializable
class Rotate(_Part):
    """Rotate by an angle drawn uniformly in `[-max_deg, max_deg]` degrees, each sample with probability `p`."""

    def __init__(self, max_deg: float = 10.0, p: float = 0.5, **kwargs: Any):
        super().__init__(p, **kwargs)
        self.max_deg = max_deg

    def sample(self, n: int) -> torch.Tensor:
        """Angles in degrees."""
        return _uniform(n, -self.max_deg, self.max_deg)

    def matrix(self, params: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
        """Rotations by `params` degrees (counter-clockwise on screen), in pixels: no shear on non-square outputs."""
        theta = params.float() * math.pi / 180
        cos, sin = theta.cos(), theta.sin()
        aspect = out_size[1] / out_size[0]  # x in [-1, 1] spans the width, y the height
        m = _eye(len(theta))
        m[:, 0, 0], m[:, 0, 1] = cos, -sin / aspect
        m[:, 1, 0], m[:, 1, 1] = sin * aspect, cos
        return m


@register_serializable
class Zoom(_Part):
    """Zoom in by a factor drawn in `[min_zoom, max_zoom]` around a random centre, each sample with probability `p`."""

    def __init__(self, min_zoom: float = 1.0, max_zoom: float = 1.1, p: float = 0.5, **kwargs: Any):
        super().__init__(p, **kwargs)
        if not 0 < min_zoom <= max_zoom:
            raise VisionError(f"Zoom: expected 0 < min_zoom <= max_zoom, got {min_zoom} and {max_zoom}")
        self.min_zoom, self.max_zoom = min_zoom, max_zoom

    def sample(self, n: int) -> torch.Tensor:
        """`n×3`: the factor, then where the view sits horizontally and vertically (0 to 1)."""
        return torch.stack([_uniform(n, self.min_zoom, self.max_zoom), torch.rand(n), torch.rand(n)], 1)

    def matrix(self, params: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
        """Scale by 1/factor, shifted so that a zoomed-in view stays inside the image."""
        s, col, row = params.float().unbind(1)
        m = _eye(len(s))
        m[:, 0, 0] = m[:, 1, 1] = 1 / s
        m[:, 0, 2], m[:, 1, 2] = (1 - 1 / s) * (2 * col - 1), (1 - 1 / s) * (2 * row - 1)
        return m


@register_serializable
class Warp(_Part):
    """Perspective: tilt the image by up to `magnitude` on each axis, each sample with probability `p`."""

    def __init__(self, magnitude: float = 0.2, p: float = 0.5, **kwargs: Any):
        super().__init__(p, **kwargs)
        if not 0 <= magnitude < 1:
            raise VisionError(f"Warp: magnitude={magnitude!r}; expected a value in [0, 1)")
        self.magnitude = magnitude

    def sample(self, n: int) -> torch.Tensor:
        """`n×2` tilts in `[-magnitude, magnitude]`: of the left/right edges, then of the top/bottom."""
        return _uniform(2 * n, -self.magnitude, self.magnitude).reshape(n, 2)

    def matrix(self, params: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
        """The homographies moving the sampled corners in or out along one axis, in opposite ways on opposite edges."""
        tx, ty = params.float()[:, :1], params.float()[:, 1:]
        src = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
        sx, sy = src[:, 0], src[:, 1]
        dst = torch.stack([sx * (1 + ty * sy), sy * (1 + tx * sx)], -1)
        return _homography(src, dst)


@register_serializable
class RandomResizedCropGPU(_Part):
    """Crop a random region (area fraction in `[min_scale, 1]`, aspect ratio in `ratio`) and resize it to `size`.

    `ratio` is relative to the output's shape: `(1, 1)` never distorts. On validation
    (`for_validation()`, which `aug_transforms` adds) it takes the largest centred crop of the
    output's shape instead.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        min_scale: float = 0.08,
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        mode: str = "bilinear",
        pad_mode: str = "reflection",
        align_corners: bool = True,
    ):
        super().__init__(1.0, size, mode, pad_mode, align_corners)
        if not 0 < min_scale <= 1:
            raise VisionError(f"RandomResizedCropGPU: min_scale={min_scale!r}; expected a value in (0, 1]")
        if not 0 < ratio[0] <= ratio[1]:
            raise VisionError(f"RandomResizedCropGPU: ratio={ratio!r}; expected 0 < low <= high")
        self.min_scale, self.ratio = min_scale, tuple(ratio)

    def sample(self, n: int) -> torch.Tensor:
        """`n×4`: area fraction, aspect ratio, horizontal and vertical position (0 to 1)."""
        return torch.stack(
            [_uniform(n, self.min_scale, 1.0), _log_uniform(n, *self.ratio), torch.rand(n), torch.rand(n)], 1
        )

    def matrix(self, params: torch.Tensor, in_size: Size, out_size: Size) -> torch.Tensor:
        """Scale and shift onto the crop, the crop's sides kept within the image."""
        area, ratio, col, row = params.float().unbind(1)
        rel = (out_size[1] / out_size[0]) / (in_size[1] / in_size[0])
        w = (area * ratio * rel).sqrt().clamp(max=1)
        h = (area / (ratio * rel)).sqrt().clamp(max=1)
        m = _eye(len(area))
        m[:, 0, 0], m[:, 1, 1] = w, h
        m[:, 0, 2], m[:, 1, 2] = (1 - w) * (2 * col - 1), (1 - h) * (2 * row - 1)
        return m

    def center(self, n: int, in_size: Size, out_size: Size) -> torch.Tensor:
        """The largest centred crop with the output's shape."""
        rel = (out_size[1] / out_size[0]) / (in_size[1] / in_size[0])
        m = _eye(n)
        m[:, 0, 0], m[:, 1, 1] = min(1.0, rel), min(1.0, 1 / rel)
        return m
