"""Blocks for vision data: images, masks, points and labelled boxes.

```python
DataBlock(blocks=(ImageBlock, MaskBlock(codes)), ...)                       # segmentation
DataBlock(blocks=(ImageBlock, BBoxBlock, BBoxLblBlock), n_inp=1,
          get_y=[get_boxes, get_labels], ...)                               # object detection
```
A point or box getter returns pixel coordinates of the item's image; `PointScaler` scales them to
[-1, 1] once the image is read (so a point outside it fails there, naming the file). Items have
different numbers of boxes: `bb_pad` (the box block's `before_batch`) clips them to the image,
drops the empty ones and pads each sample to the batch's largest count with empty boxes labelled 0
(`#na#`, which `BBoxLblBlock` puts first in its vocabulary).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from layered.core.registry import register_serializable
from layered.core.transform import Transform
from layered.data.blocks import TransformBlock
from layered.data.categorize import MultiCategorize, TensorMultiCategory
from layered.vision import show as _show  # noqa: F401 - registers the show_batch/show_results cases for images
from layered.vision.errors import VisionError
from layered.vision.item_transforms import CheckMaskSize, ImageToTensor, IntToFloatTensor, PointScaler
from layered.vision.types import PILBase, PILImage, PILMask, TensorBBox, TensorMask, TensorPoint

__all__ = [
    "AddMaskCodes",
    "BBoxBlock",
    "BBoxLblBlock",
    "ImageBlock",
    "MaskBlock",
    "PointBlock",
    "bb_pad",
    "clip_remove_empty",
]


def ImageBlock(cls: type[PILBase] = PILImage) -> TransformBlock:
    """Images read as `cls` (PILImage, PILImageBW), made uint8 tensors per item and floats per batch."""
    if not (isinstance(cls, type) and issubclass(cls, PILBase)):
        raise VisionError(f"ImageBlock: cls is {cls!r}; expected a PILBase subclass such as PILImage")
    return TransformBlock(type_tfms=cls.create, item_tfms=ImageToTensor, batch_tfms=IntToFloatTensor)


@register_serializable
class AddMaskCodes(Transform):
    """Holds the class names of a mask (`vocab`, `c`); decoded masks carry them as `codes`."""

    def __init__(self, codes: Sequence[str] | None = None):
        super().__init__()
        self.vocab = None if codes is None else list(codes)
        if self.vocab is not None:
            self.c = len(self.vocab)

    def decodes(self, o: TensorMask):
        if self.vocab is not None:
            o.codes = self.vocab
        return o


def MaskBlock(codes: Sequence[str] | None = None) -> TransformBlock:
    """Segmentation masks of class indices (`codes` names them), checked against their image's size."""
    return TransformBlock(
        type_tfms=[PILMask.create, AddMaskCodes(codes)],
        item_tfms=[CheckMaskSize, ImageToTensor],
        batch_tfms=IntToFloatTensor,
    )


@register_serializable
def _points(x):  # one argument: a type transform dispatches on every parameter of its function
    return TensorPoint.create(x)


@register_serializable
def _boxes(x):  # one argument: a type transform dispatches on every parameter of its function
    return TensorBBox.create(x)


def PointBlock() -> TransformBlock:
    """Points `(x, y)` given in pixels of the item's image (a getter returns an `n×2` list or array)."""
    return TransformBlock(type_tfms=_points, item_tfms=PointScaler)


def clip_remove_empty(bbox: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes clipped to [-1, 1] without those left with no area, and their labels."""
    if len(bbox) != len(label):
        raise VisionError(f"{len(bbox)} boxes but {len(label)} labels; expected one label per box")
    bbox = bbox.clamp(-1, 1)
    keep = (bbox[:, 2] > bbox[:, 0]) & (bbox[:, 3] > bbox[:, 1])
    return bbox[keep], label[keep]


def bb_pad(samples: list, pad_idx: int = 0) -> list:
    """Per sample, boxes clipped with empty ones removed, then padded to the batch's largest count.

    Each box tensor is followed in its sample by its labels; padding boxes are zeros labelled `pad_idx`.
    """
    if not samples or not isinstance(samples[0], tuple):
        return samples
    pos = [i for i, o in enumerate(samples[0]) if isinstance(o, TensorBBox)]
    for i in pos:
        if i + 1 >= len(samples[0]) or not isinstance(samples[0][i + 1], TensorMultiCategory):
            raise VisionError(
                "bb_pad: each box tensor must be followed by its labels (BBoxBlock, then BBoxLblBlock)"
            )
    cleaned = [list(s) for s in samples]
    for i in pos:
        for s in cleaned:
            s[i], s[i + 1] = clip_remove_empty(s[i].reshape(-1, 4), s[i + 1].reshape(-1))
        n = max(1, *(len(s[i]) for s in cleaned))
        for s in cleaned:
            k = n - len(s[i])
            s[i] = torch.cat([s[i], s[i].new_zeros(k, 4)])
            s[i + 1] = torch.cat([s[i + 1], s[i + 1].new_full((k,), pad_idx)])
    return [tuple(s) for s in cleaned]


@register_serializable
def _pad_boxes(samples):  # one argument: a transform dispatches on every parameter of its function
    return bb_pad(samples)


def BBoxBlock() -> TransformBlock:
    """Boxes `(x1, y1, x2, y2)` given in pixels of the item's image; batches pad them with `bb_pad`."""
    return TransformBlock(type_tfms=_boxes, item_tfms=PointScaler, dls_kwargs={"before_batch": _pad_boxes})


def BBoxLblBlock(vocab: Sequence[str] | None = None, add_na: bool = True) -> TransformBlock:
    """The label of each box (a list per item); `add_na` keeps index 0 for padding boxes."""
    return TransformBlock(type_tfms=MultiCategorize(vocab=vocab, add_na=add_na))
