"""Per-item transforms (CPU): resizing and cropping, consistent on images, masks, points and boxes.

```python
item_tfms = [Resize(224)]                     # crop at random when training, at the centre otherwise
item_tfms = [Resize(224, method="pad", pad_mode="reflection")]
item_tfms = [RandomResizedCrop(224, min_scale=0.35)]
```
Each geometric transform picks one source rectangle from the item's image and maps it onto the
output size; every image, mask, point and box of the item goes through that same rectangle
(images bilinearly, masks by nearest neighbour, coordinates exactly; boxes are clipped to the
image). A rectangle reaching outside the image pads it (zeros, reflection or border pixels).

Training and validation differ: a Pipeline runs a transform on every split or on one split only,
and never tells it which split it is on. So the transforms with randomness (`Resize` in "crop"
mode, `RandomResizedCrop`, `RandomCrop`) are each a small Pipeline of two parts: a training part
(`split_idx=0`) that places the crop at random and gives the exact output size, then a part for
all splits that places it at the centre, which on an image already at that size does nothing.
Called directly (`Resize(64)(img)`), only the centred part runs.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import torch
from PIL import Image

from layered.core.pipeline import Pipeline
from layered.core.registry import register_serializable
from layered.core.transform import DisplayedTransform, ItemTransform, Transform
from layered.vision.errors import VisionError
from layered.vision.serving import ResizeImages, ScaleImages, image_positions
from layered.vision.types import (
    PILBase,
    PILImage,
    PILImageBW,
    PILMask,
    TensorBBox,
    TensorImage,
    TensorImageBase,
    TensorImageBW,
    TensorMask,
    TensorPoint,
    source_of,
)

__all__ = [
    "CheckMaskSize",
    "CropPad",
    "ImageToTensor",
    "IntToFloatTensor",
    "PointScaler",
    "RandomCrop",
    "RandomResizedCrop",
    "RatioResize",
    "Resize",
]

_PAD_MODES = {"zeros": "constant", "reflection": "reflect", "border": "edge"}
_METHODS = ("crop", "pad", "squish")

Rect = tuple[float, float, float, float]  # x0, y0, width, height in source pixels


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    """`size` (an int or `(height, width)`) as `(width, height)`, the order of PIL and of coordinates."""
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    if not (isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0):
        raise VisionError(f"size {size!r}: expected a positive int or a (height, width) pair of ints")
    return w, h


def _check_pad_mode(pad_mode: str) -> str:
    if pad_mode not in _PAD_MODES:
        raise VisionError(f"pad_mode {pad_mode!r}: expected one of {sorted(_PAD_MODES)}")
    return pad_mode


def _item_size(b: Any, name: str) -> tuple[int, int]:
    """`(width, height)` of the first PIL image of an item (a tuple or a single image)."""
    for o in b if isinstance(b, tuple) else (b,):
        if isinstance(o, PILBase):
            return o.size
        if isinstance(o, TensorImageBase):
            raise VisionError(
                f"{name} works on PIL images and found a {type(o).__name__}: put it before ImageToTensor "
                "(item transforms run in `order`; ImageToTensor's is 5)"
            )
    raise VisionError(f"{name}: the item has no PIL image to take its size from ({type(b).__name__})")


# ---- the geometry: one rectangle of the source onto the output ----------------------------------
def _pad_to_cover(im: Image.Image, rect: Rect, pad_mode: str) -> tuple[Image.Image, Rect]:
    """`im` padded so it contains `rect`, and `rect` in the padded image's pixels."""
    x0, y0, cw, ch = rect
    w, h = im.size
    left, top = math.ceil(max(0.0, -x0)), math.ceil(max(0.0, -y0))
    right, bottom = math.ceil(max(0.0, x0 + cw - w)), math.ceil(max(0.0, y0 + ch - h))
    if not (left or top or right or bottom):
        return im, rect
    a = np.asarray(im)
    widths = ((top, bottom), (left, right)) + (((0, 0),) if a.ndim == 3 else ())
    padded = np.pad(a, widths, mode=_PAD_MODES[pad_mode])
    return Image.fromarray(padded, im.mode), (x0 + left, y0 + top, cw, ch)


def _map_image(im: PILBase, rect: Rect, out: tuple[int, int], pad_mode: str, resample: int) -> PILBase:
    if rect == (0, 0, *im.size) and out == im.size:
        return im
    src, (x0, y0, cw, ch) = _pad_to_cover(im, rect, pad_mode)
    # one resampling: PIL's box argument crops and resizes together, with antialiasing
    res = Image.Image.resize(src, out, resample, box=(x0, y0, x0 + cw, y0 + ch))
    res.info = dict(im.info)
    return type(im)(res)


def _map_coords(t: torch.Tensor, rect: Rect, size: tuple[int, int], out: tuple[int, int]) -> torch.Tensor:
    """Coordinates in [-1, 1] of an image of `size`, mapped through `rect` onto an image of `out`."""
    (x0, y0, cw, ch), (w, h) = rect, size
    n = t.shape[-1]
    scale = t.new_tensor([w / cw, h / ch] * (n // 2))
    shift = t.new_tensor([(w - 2 * x0) / cw - 1, (h - 2 * y0) / ch - 1] * (n // 2))
    res = t * scale + shift
    if isinstance(t, TensorBBox):
        res = res.clamp(-1, 1)
    res.img_size = out
    return res


@register_serializable
class _Geometric(ItemTransform):
    """Maps every part of an item through one rectangle of its image.

    A subclass defines `rect(size)`: the source rectangle and the output `(width, height)` for
    an image of `size`."""

    order = 1
    pad_mode = "zeros"
    resamples = (int(Image.Resampling.BILINEAR), int(Image.Resampling.NEAREST))

    def _apply(self, o: Any, rect: Rect, size: tuple[int, int], out: tuple[int, int]) -> Any:
        if isinstance(o, PILBase):
            resample = self.resamples[1] if isinstance(o, PILMask) else self.resamples[0]
            return _map_image(o, rect, out, self.pad_mode, resample)
        if isinstance(o, (TensorPoint, TensorBBox)):
            if getattr(o, "img_size", None) is None:
                raise VisionError(
                    f"{self.name}: {type(o).__name__} without img_size; PointScaler must run first"
                )
            return _map_coords(o, rect, size, out)
        return o

    def encodes(self, b: tuple):
        size = _item_size(b, self.name)
        rect, out = self.rect(size)
        return tuple(self._apply(o, rect, size, out) for o in b)

    def encodes(self, b: PILBase):  # noqa: F811 - several encodes, dispatched by type
        rect, out = self.rect(b.size)
        return self._apply(b, rect, b.size, out)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_"))
        return f"{self.name}({args})"

    def serving_step(self) -> dict:
        """What a server does to an image before an exported graph: this placement, at the training size."""
        w, h = self.size
        return {
            "step": _SERVING_STEPS.get(type(self).__name__, type(self).__name__),
            "size": [h, w],
            "resample": Image.Resampling(self.resamples[0]).name.lower(),
            "pad_mode": self.pad_mode,
        }

    def serving_module(self, types: tuple) -> list:
        """Resize image inputs of any size to the training size in an exported graph (see `ResizeImages`)."""
        w, h = self.size
        return [ResizeImages((h, w)) if im else None for im in image_positions(types, TensorImage)]


_SERVING_STEPS = {
    "_AspectCrop": "center crop to the aspect of size, then resize",
    "_Fixed": "resize (squish) or pad to the aspect of size, then resize",
    "_Window": "center window of size, padded where smaller",
}


def _fit_crop(w: int, h: int, tw: int, th: int) -> tuple[float, float]:
    """The largest crop of aspect `tw/th` inside `w×h`."""
    return (w, w * th / tw) if w * th <= h * tw else (h * tw / th, h)


@register_serializable
class _AspectCrop(_Geometric):
    """The largest crop of the output's aspect, at the centre or (`rand`) anywhere; then resized."""

    def __init__(self, size: tuple[int, int], rand: bool, resamples: tuple[int, int]):
        super().__init__(split_idx=0 if rand else None)
        self.size, self.rand, self.resamples = size, rand, _filters(resamples)

    def rect(self, size: tuple[int, int]) -> tuple[Rect, tuple[int, int]]:
        """The crop of the output's aspect, placed at random (training) or at the centre."""
        (w, h), (tw, th) = size, self.size
        cw, ch = _fit_crop(w, h, tw, th)
        fx, fy = (random.random(), random.random()) if self.rand else (0.5, 0.5)
        return ((w - cw) * fx, (h - ch) * fy, cw, ch), self.size


@register_serializable
class _Fixed(_Geometric):
    """The whole image resized ("squish") or padded to the output's aspect, centred ("pad")."""

    def __init__(self, size: tuple[int, int], method: str, pad_mode: str, resamples: tuple[int, int]):
        super().__init__()
        self.size, self.method, self.pad_mode, self.resamples = size, method, pad_mode, _filters(resamples)

    def rect(self, size: tuple[int, int]) -> tuple[Rect, tuple[int, int]]:
        """The whole image, or the smallest rectangle of the output's aspect around it."""
        (w, h), (tw, th) = size, self.size
        if self.method == "squish":
            return (0, 0, w, h), self.size
        cw, ch = (w, w * th / tw) if w * th >= h * tw else (h * tw / th, h)
        return ((w - cw) / 2, (h - ch) / 2, cw, ch), self.size


@register_serializable
class _Window(_Geometric):
    """A window of exactly the output size (padding where the image is smaller), no resizing."""

    def __init__(self, size: tuple[int, int], rand: bool, pad_mode: str):
        super().__init__(split_idx=0 if rand else None)
        self.size, self.rand, self.pad_mode = size, rand, pad_mode

    def rect(self, size: tuple[int, int]) -> tuple[Rect, tuple[int, int]]:
        """The window placed at random (training) or at the centre, on whole pixels."""
        (w, h), (tw, th) = size, self.size
        fx, fy = (random.random(), random.random()) if self.rand else (0.5, 0.5)
        return (round((w - tw) * fx), round((h - th) * fy), tw, th), self.size


@register_serializable
class _RandomAreaCrop(_Geometric):
    """A crop of random area and aspect ratio, resized to the output (training only)."""

    def __init__(self, size, min_scale: float, ratio: tuple[float, float], resamples: tuple[int, int]):
        super().__init__(split_idx=0)
        self.size, self.min_scale, self.ratio, self.resamples = size, min_scale, ratio, _filters(resamples)

    def rect(self, size: tuple[int, int]) -> tuple[Rect, tuple[int, int]]:
        """Up to ten draws of area and aspect; when none fits, the centred crop of the output's aspect."""
        w, h = size
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        for _ in range(10):
            area = w * h * random.uniform(self.min_scale, 1.0)
            r = math.exp(random.uniform(log_lo, log_hi))
            cw, ch = math.sqrt(area * r), math.sqrt(area / r)
            if cw <= w and ch <= h:
                return (random.uniform(0, w - cw), random.uniform(0, h - ch), cw, ch), self.size
        cw, ch = _fit_crop(w, h, *self.size)
        return ((w - cw) / 2, (h - ch) / 2, cw, ch), self.size


@register_serializable
class _TrainThenAll(Pipeline):
    """A transform in two parts: random placement when training, then centred placement on every split."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(f) for f in self.fs)})"

    @property
    def size(self) -> tuple[int, int]:
        """The output `(height, width)`."""
        w, h = self.fs[-1].size
        return h, w

    @property
    def order(self) -> int:
        """Where the parts sit among item transforms."""
        return self.fs[-1].order

    def serving_step(self) -> dict:
        """The inference part's description for an exported graph's sidecar."""
        return self.fs[-1].serving_step()

    def serving_module(self, types: tuple) -> list:
        """The inference part's resize, in an exported graph."""
        return self.fs[-1].serving_module(types)


_Resamples = tuple[int, int]
_DEFAULT_RESAMPLES: _Resamples = (int(Image.Resampling.BILINEAR), int(Image.Resampling.NEAREST))


def _filters(resamples) -> _Resamples:
    """PIL filters as plain ints: an exported learner holds plain data, and enum members are code."""
    return tuple(int(r) for r in resamples)


def _parts(method: str, size, pad_mode: str, resamples: _Resamples) -> list[Transform]:
    if method not in _METHODS:
        raise VisionError(f"Resize: method {method!r}; expected one of {_METHODS}")
    wh, pad_mode = _size(size), _check_pad_mode(pad_mode)
    if method == "crop":
        return [_AspectCrop(wh, True, resamples), _AspectCrop(wh, False, resamples)]
    return [_Fixed(wh, method, pad_mode, resamples)]


@register_serializable
class Resize(_TrainThenAll):
    """Resize items to `size` (an int or `(height, width)`).

    `method`: "crop" keeps the aspect ratio and cuts the excess (at random when training, centred
    otherwise); "pad" keeps it and fills the margins (`pad_mode` "zeros", "reflection" or
    "border"); "squish" stretches the whole image. `resamples` is (image, mask) PIL filters.
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        method: str = "crop",
        pad_mode: str = "zeros",
        resamples: _Resamples = _DEFAULT_RESAMPLES,
    ):
        super().__init__(_parts(method, size, pad_mode, resamples))


@register_serializable
class RandomResizedCrop(_TrainThenAll):
    """When training, crop `min_scale`-to-1 of the area with an aspect ratio in `ratio`, then resize to `size`.

    Otherwise, the centred crop of the output's aspect, resized (as `Resize(size)` does).
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        min_scale: float = 0.08,
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        resamples: _Resamples = _DEFAULT_RESAMPLES,
    ):
        if not 0 < min_scale <= 1:
            raise VisionError(f"RandomResizedCrop: min_scale {min_scale} must be in (0, 1]")
        if not 0 < ratio[0] <= ratio[1]:
            raise VisionError(f"RandomResizedCrop: ratio {ratio} must be (low, high) with 0 < low <= high")
        wh = _size(size)
        super().__init__(
            [_RandomAreaCrop(wh, min_scale, tuple(ratio), resamples), _AspectCrop(wh, False, resamples)]
        )


@register_serializable
class RandomCrop(_TrainThenAll):
    """A window of `size` pixels (no resizing) at a random place when training, centred otherwise.

    An image smaller than `size` is padded (`pad_mode` "zeros", "reflection" or "border").
    """

    def __init__(self, size: int | tuple[int, int], pad_mode: str = "zeros"):
        wh, pad_mode = _size(size), _check_pad_mode(pad_mode)
        super().__init__([_Window(wh, True, pad_mode), _Window(wh, False, pad_mode)])


_SIDES = ("longest", "shortest")


@register_serializable
class RatioResize(_Geometric):
    """Resize keeping the aspect ratio: the `side` ("longest" or "shortest") becomes `size` pixels.

    The whole image is kept (nothing cut, nothing padded) and the other side is scaled alike,
    rounded to whole pixels (at least 1). It runs on every split, so validation items are resized
    the same way. Items then differ in size when their aspects differ: to batch them, follow it
    with a transform of fixed size (`CropPad(size)` after `RatioResize(size)` pads to a square
    without distorting the image), or use `bs=1`.
    """

    def __init__(self, size: int, side: str = "longest", resamples: _Resamples = _DEFAULT_RESAMPLES):
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise VisionError(
                f"RatioResize: size {size!r}; expected a positive int (pixels of the {side} side)"
            )
        if side not in _SIDES:
            raise VisionError(f"RatioResize: side {side!r}; expected one of {_SIDES}")
        super().__init__()
        self.size, self.side, self.resamples = size, side, _filters(resamples)

    def rect(self, size: tuple[int, int]) -> tuple[Rect, tuple[int, int]]:
        """The whole image, and the output `(width, height)` with `side` at `size` and the aspect kept."""
        w, h = size
        scale = self.size / (max(w, h) if self.side == "longest" else min(w, h))
        return (0, 0, w, h), (max(1, round(w * scale)), max(1, round(h * scale)))

    def serving_step(self) -> dict:
        """What a server does to an image before an exported graph: this resize, keeping the aspect."""
        return {
            "step": f"resize keeping the aspect, the {self.side} side to size",
            "size": self.size,
            "resample": Image.Resampling(self.resamples[0]).name.lower(),
        }

    def serving_module(self, types: tuple) -> None:
        """Nothing in the graph: the output size depends on each image, so the server resizes first."""
        return None


@register_serializable
class CropPad(_Window):
    """Centre-crop or pad items to exactly `size` pixels (an int or `(height, width)`), no resizing."""

    def __init__(self, size: int | tuple[int, int], pad_mode: str = "zeros"):
        super().__init__(_size(size), False, _check_pad_mode(pad_mode))


# ---- checks and scaling that need the whole item ------------------------------------------------
def _first_image(b: tuple) -> Any:
    return next((o for o in b if isinstance(o, (PILImage, TensorImage))), None)


def _wh(im: Any) -> tuple[int, int]:
    return im.size if isinstance(im, PILBase) else (im.shape[-1], im.shape[-2])


@register_serializable
class PointScaler(ItemTransform):
    """Scale an item's points and boxes from pixels of its image to [-1, 1]; decoding records the size.

    Coordinates without `img_size` are read as pixels of the item's image (as the point and box
    blocks make them); a point outside the image or a box with x2 < x1 is an error naming the file.
    """

    order = 0

    def encodes(self, b: tuple):
        im = _first_image(b)
        if im is None:
            return b
        size, source = _wh(im), source_of(im)

        def scale(o: Any) -> Any:
            if isinstance(o, (TensorPoint, TensorBBox)) and getattr(o, "img_size", None) is None:
                return type(o).from_pixels(o, size, source=source)
            return o

        return tuple(scale(o) for o in b)

    def decodes(self, b: tuple):
        im = _first_image(b)
        if im is None:
            return b
        size = _wh(im)

        def record(o: Any) -> Any:
            if isinstance(o, (TensorPoint, TensorBBox)):
                o = o.clone()  # predictions share storage with the batch; give them their own metadata
                o.img_size = size
            return o

        return tuple(record(o) for o in b)


@register_serializable
class CheckMaskSize(ItemTransform):
    """Raise, naming the files, when an item's mask and image differ in size."""

    order = 0

    def encodes(self, b: tuple):
        im = _first_image(b)
        for o in b:
            if im is not None and isinstance(o, PILMask) and o.size != im.size:
                raise VisionError(
                    f"mask {source_of(o)} is {o.size[0]}x{o.size[1]} but its image {source_of(im)} is "
                    f"{im.size[0]}x{im.size[1]}; a mask must have its image's size"
                )
        return b


# ---- to tensors ----------------------------------------------------------------------------------
def _hwc(im: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(im))  # a copy: PIL's buffer is read-only


@register_serializable
class ImageToTensor(Transform):
    """PIL images to uint8 `C×H×W` `TensorImage`s (the vision counterpart of `layered.data`'s `ToTensor`) (`TensorImageBW` for greyscale), masks to long `TensorMask`s."""

    order = 5

    def serving_step(self) -> dict:
        """How a server turns the decoded image into the graph's input."""
        return {"step": "to_tensor", "layout": "CHW (batched: NCHW)", "dtype": "uint8"}

    def encodes(self, x: PILImage) -> TensorImage:
        return _hwc(x).permute(2, 0, 1)

    def encodes(self, x: PILImageBW) -> TensorImageBW:  # noqa: F811 - several encodes, dispatched by type
        return _hwc(x)[None]

    def encodes(self, x: PILMask) -> TensorMask:  # noqa: F811 - several encodes, dispatched by type
        return _hwc(x).long()


@register_serializable
class IntToFloatTensor(DisplayedTransform):
    """Batch transform: images to float divided by `div` (255: to [0, 1]); masks to long, values kept."""

    order = 10

    def __init__(self, div: float = 255.0):
        super().__init__()
        self.div = div

    def encodes(self, x: TensorImage):
        return x.float().div_(self.div)

    def encodes(self, x: TensorMask):  # noqa: F811 - several encodes, dispatched by type
        return x.long()

    def decodes(self, x: TensorImage):
        return (x.float() * self.div).clamp(0, 255).round().to(torch.uint8)

    def serving_module(self, types: tuple) -> list:
        """Image inputs to float divided by `div`, in an exported graph."""
        return [ScaleImages(self.div) if im else None for im in image_positions(types, TensorImage)]
