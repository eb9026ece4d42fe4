"""Normalizing image batches: `ImageNormalize` and the common dataset statistics.

`Normalize.from_stats(*imagenet_stats)` (fastai's spelling, `layered.data`'s `Normalize`) normalizes
a batch's inputs, which for image data are the images; `ImageNormalize` touches `TensorImage`s
only and computes per-channel statistics when given none. It has its own name so that a
star-import of any applications binds `Normalize` to one object.
"""

from __future__ import annotations

from collections.abc import Sequence

from layered.core.registry import register_serializable
from layered.data.normalize import Normalize
from layered.vision.types import TensorImage

__all__ = ["ImageNormalize", "cifar_stats", "imagenet_stats", "mnist_stats"]

# Per-channel (mean, std) of pixel values in [0, 1], as torchvision's pretrained models expect them.
imagenet_stats = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
cifar_stats = ([0.491, 0.482, 0.447], [0.247, 0.243, 0.261])
mnist_stats = ([0.131], [0.308])


@register_serializable
class ImageNormalize(Normalize):
    """Per-channel `(x - mean) / std` on a batch's `TensorImage`s (masks, points, labels untouched); decodes back.

    `ImageNormalize.from_stats(mean, std)` takes per-channel statistics; with none, they are computed
    per channel from one training batch in `setups`. Decoding restores [0, 1] images for showing.
    """

    def __init__(
        self,
        mean=None,
        std=None,
        axes: Sequence[int] = (0, 2, 3),
        types: tuple | None = (TensorImage,),
        eps: float = 1e-7,
    ):
        super().__init__(mean, std, axes=axes, types=types, eps=eps)
