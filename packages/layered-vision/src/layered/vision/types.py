"""Semantic types of vision data: PIL images and masks, and the tensors they become.

```python
img = PILImage.create("cat.jpg")            # an RGB PIL image that knows how to show itself
x = TensorImage(torch.rand(3, 64, 64))      # stays a TensorImage through torch ops and batching
pts = TensorPoint.from_pixels([[10, 20]], img_size=(64, 48))   # scaled to [-1, 1]
```
Conventions shared by every vision transform:
- images and masks are channels-first tensors (`C×H×W`, a mask `H×W`), uint8 until
  `IntToFloatTensor` divides images by 255; masks hold long class indices;
- a point is `(x, y)` and a box `(x1, y1, x2, y2)`, both in `[-1, 1]`, where -1 is the left/top
  edge of the image and 1 the right/bottom edge (the convention of `grid_sample` with
  `align_corners=False`); `img_size` is `(width, height)` in pixels, in the order of the
  coordinates, and names the image the coordinates refer to;
- a PIL image read from a file keeps the file's path in `info["source"]` (PIL copies `info` to
  every image derived from it) so later checks can name the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from PIL import Image

import layered.vision.torchvision_components  # noqa: F401  (registers torchvision's blocks for export)
from layered.core.registry import register_serializable
from layered.core.tensor_types import TensorBase
from layered.train.losses.default import register_default_loss
from layered.train.losses.flattened import CrossEntropyLossFlat, MSELossFlat
from layered.vision.drawing import show_boxes, show_image, show_points
from layered.vision.errors import VisionError
from layered.vision.image_io import convert_image, load_image, load_mask, mask_values

__all__ = [
    "LabeledBBox",
    "PILBase",
    "PILImage",
    "PILImageBW",
    "PILMask",
    "TensorBBox",
    "TensorImage",
    "TensorImageBW",
    "TensorImageBase",
    "TensorMask",
    "TensorPoint",
    "source_of",
]


def source_of(o: Any) -> str:
    """The file an image (or anything carrying `info["source"]`) was read from, or "an item"."""
    info = getattr(o, "info", None)
    return str(info["source"]) if isinstance(info, dict) and "source" in info else "an item"


def _array_image(a: np.ndarray, name: str) -> Image.Image:
    """A PIL image from an `H×W` or `H×W×C` array, by one rule per dtype.

    uint8 as it is; bool as 0/255; other integers when every value is in 0..255; floats when
    finite, those in [0, 1] scaled by 255, others clipped to 0..255. Anything else (an empty
    array, NaN or infinite floats, integers beyond 0..255, objects, strings, complex numbers)
    raises `VisionError` naming the dtype and what was expected.
    """
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise VisionError(
            f"{name}: an array of shape {a.shape} is not an image; expected H×W or H×W×C, C in 1, 3, 4"
        )
    if a.size == 0:
        raise VisionError(
            f"{name}: the {a.dtype} array of shape {a.shape} is empty; expected at least one pixel"
        )
    if a.dtype.kind not in "biuf":
        raise VisionError(
            f"{name}: an array of dtype {a.dtype} is not an image; expected uint8, bool, integers or floats"
        )
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.dtype.kind == "b":
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise VisionError(
                f"{name}: the {a.dtype} array holds NaN or infinite values; expected finite numbers "
                "(in [0, 1], or 0..255)"
            )
        a = np.clip(a * 255.0 if a.max() <= 1.0 else a, 0, 255).round().astype(np.uint8)
    elif a.dtype != np.uint8:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise VisionError(
                f"{name}: the {a.dtype} array has values {lo}..{hi}; expected 0..255 (scale it first, "
                "e.g. to floats in [0, 1])"
            )
        a = a.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a))


@register_serializable
class PILBase(Image.Image):
    """A PIL image of a semantic type; `create` reads files, arrays, tensors, bytes or images.

    `PILImage(im)` wraps an existing `PIL.Image.Image` without copying its pixels, which is how
    transforms give a resized or cropped result back the type of their input.
    """

    _mode = "RGB"
    _show_args: dict = {}

    def __init__(self, im: Image.Image | None = None):
        super().__init__()
        if im is not None:
            if not isinstance(im, Image.Image):
                raise VisionError(f"{type(self).__name__}: got {type(im).__name__}, expected a PIL image")
            self.__dict__.update(im.__dict__)

    @classmethod
    def _read(cls, fn: Path) -> Image.Image:
        return load_image(fn, cls._mode)

    @classmethod
    def _convert(cls, im: Image.Image, name: str) -> Image.Image:
        return convert_image(im, cls._mode)

    @classmethod
    def create(cls, fn: str | Path | bytes | np.ndarray | torch.Tensor | Image.Image) -> PILBase:
        """An image of this type from a file path, file bytes, an array (H×W[×C]), a C×H×W tensor or a PIL image."""
        if isinstance(fn, (str, Path)):
            im = cls._read(Path(fn))
            im.info["source"] = str(fn)
            return cls(im)
        if isinstance(fn, bytes):
            with Image.open(BytesIO(fn)) as opened:
                opened.load()
                im = opened.copy()
        elif isinstance(fn, torch.Tensor):
            t = fn.detach().cpu()
            im = _array_image((t.permute(1, 2, 0) if t.ndim == 3 else t).numpy(), cls.__name__)
        elif isinstance(fn, np.ndarray):
            im = _array_image(fn, cls.__name__)
        elif isinstance(fn, Image.Image):
            im = fn
        else:
            raise VisionError(
                f"{cls.__name__}.create: got {type(fn).__name__}; expected a path, bytes, an array, "
                "a tensor or a PIL image"
            )
        return cls(cls._convert(im, cls.__name__))

    @property
    def shape(self) -> tuple[int, int]:
        """`(height, width)`, in the order of a tensor's dimensions."""
        return self.size[1], self.size[0]

    def show(self, ctx: Any = None, **kwargs: Any) -> Any:
        """Draw on `ctx` (a matplotlib Axes; a new one if None) and return it."""
        return show_image(self, ctx=ctx, **{**self._show_args, **kwargs})

    def __repr__(self) -> str:
        return f"{type(self).__name__} mode={self.mode} size={self.size[0]}x{self.size[1]}"


@register_serializable
class PILImage(PILBase):
    """An RGB image."""


@register_serializable
class PILImageBW(PILImage):
    """A greyscale image (mode "L")."""

    _mode = "L"
    _show_args = {"cmap": "Greys_r"}


@register_serializable
class PILMask(PILBase):
    """A segmentation mask: one class index per pixel (mode "L"), values kept exactly."""

    _mode = "L"
    _show_args = {"alpha": 0.5, "cmap": "tab20"}

    @classmethod
    def _read(cls, fn: Path) -> Image.Image:
        return load_mask(fn)

    @classmethod
    def _convert(cls, im: Image.Image, name: str) -> Image.Image:
        return mask_values(im, name)


@register_serializable
class TensorImageBase(TensorBase):
    """Base of image-like tensors (channels first); they show themselves with `show_image`."""

    _show_args: dict = {"cmap": "viridis"}

    def show(self, ctx: Any = None, **kwargs: Any) -> Any:
        """Draw on `ctx` (a matplotlib Axes; a new one if None) and return it."""
        return show_image(self, ctx=ctx, **{**self._show_args, **kwargs})


@register_serializable
class TensorImage(TensorImageBase):
    """An image tensor `C×H×W` (a batch `N×C×H×W`): uint8 from files, float after `IntToFloatTensor`."""

    serving_name = "image"  # the input's name in exported graphs
    serving_decode = "decode the image file with PIL and convert it to RGB"


@register_serializable
class TensorImageBW(TensorImage):
    """A one-channel image tensor."""

    serving_decode = "decode the image file with PIL and convert it to L (8-bit greyscale)"

    _show_args = {"cmap": "Greys_r"}


@register_serializable
class TensorMask(TensorImageBase):
    """A mask tensor `H×W` (a batch `N×H×W`) of long class indices; `codes` may name the classes."""

    _show_args = {"alpha": 0.5, "cmap": "tab20"}

    def show(self, ctx: Any = None, **kwargs: Any) -> Any:
        """Draw the classes colour-coded (over what `ctx` shows already) and return the Axes."""
        codes = getattr(self, "codes", None)
        if codes is not None:
            kwargs = {"vmin": 0, "vmax": max(len(codes) - 1, 1), **kwargs}
        return super().show(ctx=ctx, **kwargs)


def _size_pair(img_size: Any, name: str) -> tuple[int, int]:
    try:
        w, h = (int(s) for s in img_size)
    except (TypeError, ValueError) as e:
        raise VisionError(f"{name}: img_size {img_size!r} is not a (width, height) pair") from e
    if w <= 0 or h <= 0:
        raise VisionError(f"{name}: img_size {img_size!r} must be positive (width, height)")
    return w, h


@register_serializable
class _Coords(TensorBase):
    """Coordinates in [-1, 1] with `img_size = (width, height)` of the image they belong to."""

    _width = 2  # numbers per row: 2 for a point, 4 for a box

    @classmethod
    def create(cls, x: Any, img_size: Sequence[int] | None = None) -> _Coords:
        """From coordinates already in [-1, 1] (any shape with `_width` numbers per row): float, `n×_width`."""
        t = torch.as_tensor(x, dtype=torch.float32)
        if t.numel() % cls._width:
            raise VisionError(f"{cls.__name__}: {t.numel()} numbers do not make rows of {cls._width}")
        meta = {} if img_size is None else {"img_size": _size_pair(img_size, cls.__name__)}
        return cls(t.reshape(-1, cls._width), **meta)

    @classmethod
    def from_pixels(cls, x: Any, img_size: Sequence[int], source: str = "an item") -> _Coords:
        """From pixel coordinates on an image of `img_size = (width, height)`; outside it is an error."""
        w, h = _size_pair(img_size, cls.__name__)
        t = torch.as_tensor(x, dtype=torch.float32).as_subclass(torch.Tensor).reshape(-1, cls._width)
        cls._check_pixels(t, w, h, source)
        scale = torch.tensor([w, h] * (cls._width // 2), dtype=torch.float32)
        return cls(t * 2 / scale - 1, img_size=(w, h))

    @classmethod
    def _check_pixels(cls, t: torch.Tensor, w: int, h: int, source: str) -> None:
        xs, ys = t[:, 0::2], t[:, 1::2]
        outside = ((xs < 0) | (xs > w) | (ys < 0) | (ys > h)).any(1) | ~torch.isfinite(t).all(1)
        if outside.any():
            row = t[outside.nonzero()[0, 0]].tolist()
            raise VisionError(
                f"{cls.__name__}: {row} of {source} is outside its {w}x{h} image "
                f"(expected 0 <= x <= {w}, 0 <= y <= {h})"
            )

    def to_pixels(self, img_size: Sequence[int] | None = None) -> torch.Tensor:
        """The coordinates in pixels of an image of `img_size` (default: the one recorded), a plain tensor."""
        size = img_size if img_size is not None else getattr(self, "img_size", None)
        if size is None:
            raise VisionError(f"{type(self).__name__}.to_pixels: no img_size recorded or given")
        w, h = _size_pair(size, type(self).__name__)
        scale = torch.tensor([w, h] * (self._width // 2), dtype=torch.float32, device=self.device)
        return ((self.as_subclass(torch.Tensor).float() + 1) * scale / 2).as_subclass(torch.Tensor)


@register_serializable
class TensorPoint(_Coords):
    """Points `n×2` as `(x, y)` in [-1, 1] (a batch `N×n×2`), with `img_size = (width, height)`."""

    def show(self, ctx: Any = None, **kwargs: Any) -> Any:
        """Scatter the points (in pixels) on `ctx` and return it."""
        return show_points(self, ctx=ctx, **kwargs)


@register_serializable
class TensorBBox(_Coords):
    """Boxes `n×4` as `(x1, y1, x2, y2)` in [-1, 1] (a batch `N×n×4`), with `img_size = (width, height)`."""

    _width = 4

    @classmethod
    def _check_pixels(cls, t: torch.Tensor, w: int, h: int, source: str) -> None:
        flipped = (t[:, 2] < t[:, 0]) | (t[:, 3] < t[:, 1])
        if flipped.any():
            row = t[flipped.nonzero()[0, 0]].tolist()
            raise VisionError(
                f"TensorBBox: box {row} of {source} has x2 < x1 or y2 < y1; expected (x1, y1, x2, y2) "
                "with x1 <= x2 and y1 <= y2"
            )
        super()._check_pixels(t, w, h, source)

    def show(self, ctx: Any = None, labels: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """Draw the boxes (with `labels`, if given) on `ctx` and return it."""
        return show_boxes(self, labels=labels, ctx=ctx, **kwargs)


@register_serializable
class LabeledBBox(NamedTuple):
    """Decoded boxes with their labels: `bbox` a `TensorBBox`, `lbl` one label per box."""

    bbox: TensorBBox
    lbl: Sequence

    def show(self, ctx: Any = None, **kwargs: Any) -> Any:
        """Draw the boxes with their labels on `ctx` and return it."""
        return self.bbox.show(ctx=ctx, labels=[str(o) for o in self.lbl], **kwargs)


# the default losses of vision targets: one class per pixel, and coordinates
register_default_loss(PILMask, partial(CrossEntropyLossFlat, axis=1))
register_default_loss(TensorMask, partial(CrossEntropyLossFlat, axis=1))
register_default_loss(TensorPoint, MSELossFlat)
