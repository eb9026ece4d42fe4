"""GAN data: noise inputs (`InvisibleTensor`, `GenerateNoise`, `NoiseBlock`), images in [-1, 1] (`TanhRange`), and how they show.

A generation DataBlock pairs noise with the real images the critic learns from:

```python
DataBlock(blocks=(NoiseBlock(64), ImageBlock(PILImageBW)), get_items=get_image_files,
          splitter=RandomSplitter(0.02), batch_tfms=TanhRange())
```
Every item gives a fresh noise vector (its value is ignored), so `learn.predict(anything)` draws
a new sample. Such an item has no image, so item transforms that need one (`Resize`) cannot run
on it at prediction time: store the images at the generator's size. `TanhRange` scales every
image of a batch, targets included, to the generator's [-1, 1]. `show_batch` draws the real
images, `show_results` the generated ones.
"""

from __future__ import annotations

from typing import Any

import torch

from layered.core.dispatch import typedispatch
from layered.core.registry import register_serializable
from layered.core.tensor_types import TensorBase
from layered.core.transform import Transform
from layered.data.blocks import TransformBlock
from layered.vision.drawing import axes_grid
from layered.vision.errors import VisionError
from layered.vision.types import TensorImage

__all__ = ["GenerateNoise", "InvisibleTensor", "NoiseBlock", "TanhRange"]


@register_serializable
class InvisibleTensor(TensorBase):
    """A tensor that draws nothing when shown: the noise a generator starts from."""

    def show(self, ctx: Any = None, **kwargs: Any) -> Any:
        """Draw nothing; return `ctx` unchanged."""
        return ctx


@register_serializable
class GenerateNoise(Transform):
    """Any item to a fresh `InvisibleTensor` of `size` standard normal numbers (the item's value is ignored)."""

    def __init__(self, size: int = 100):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise VisionError(f"GenerateNoise: size must be a positive int (the noise length), got {size!r}")
        self.size = size

    def encodes(self, o: Any) -> InvisibleTensor:
        return InvisibleTensor(torch.randn(self.size))


def NoiseBlock(size: int = 100) -> TransformBlock:
    """Generator inputs: each item becomes `size` standard normal numbers, drawn anew every time it is read."""
    return TransformBlock(type_tfms=GenerateNoise(size))


@register_serializable
class TanhRange(Transform):
    """Every float image of a batch (inputs and targets) from [0, 1] to [-1, 1], the range of a `tanh` generator; decodes back."""

    order = 99  # after IntToFloatTensor

    def encodes(self, x: TensorImage):
        return x * 2 - 1 if x.is_floating_point() else x

    def decodes(self, x: TensorImage):
        return (x + 1) / 2 if x.is_floating_point() else x


def _images(samples: list, part: int) -> list:
    return [s[part] if isinstance(s, tuple) else s for s in samples]


@typedispatch
def show_batch(
    x: InvisibleTensor,
    y: TensorImage,
    samples,
    ctxs=None,
    max_n: int = 9,
    nrows: int | None = None,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
    **kwargs,
):
    """Generation data: a grid of the real images (the noise draws nothing); returns the Axes."""
    images = _images(samples[:max_n], 1)
    ctxs = ctxs or axes_grid(len(images), nrows, ncols, figsize)
    for image, ctx in zip(images, ctxs):
        image.show(ctx=ctx)
    return ctxs


@typedispatch
def show_results(
    x: InvisibleTensor,
    y: TensorImage,
    samples,
    outs,
    ctxs=None,
    max_n: int = 9,
    nrows: int | None = None,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
    **kwargs,
):
    """Generation results: a grid of generated images, one per noise vector; returns the Axes."""
    images = _images(outs[:max_n], 0)
    ctxs = ctxs or axes_grid(len(images), nrows, ncols, figsize)
    for image, ctx in zip(images, ctxs):
        image.show(ctx=ctx)
    return ctxs
