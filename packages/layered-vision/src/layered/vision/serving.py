"""The device-side image steps of an inference pipeline as plain modules, for ONNX and `torch.export` graphs.

The vision transforms hand these to `layered.train.saving.serving` through their
`serving_module(types)` hooks; each one does to a batch tensor what its transform does to
`TensorImage`s, so the exported graph gives what `get_preds` gives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ResizeImages", "ScaleImages", "image_positions"]


def image_positions(types: tuple, cls: type) -> list[bool]:
    """For each input position, whether its batch type is `cls` (or a subclass)."""
    return [isinstance(t, type) and issubclass(t, cls) for t in types]


class ResizeImages(nn.Module):
    """uint8 images of any height and width to `size` (bilinear, rounded back to uint8).

    The graph's image input therefore accepts any size; an image already at `size` passes unchanged
    (a bilinear resize to the same size is the identity).
    """

    serving_dynamic = {2: "height", 3: "width"}

    def __init__(self, size: tuple[int, int]):
        super().__init__()
        self.size = (int(size[0]), int(size[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.interpolate(x.float(), size=self.size, mode="bilinear", align_corners=False)
        return out.round().clamp(0, 255).to(x.dtype)


class ScaleImages(nn.Module):
    """uint8 images to float32 divided by `div` (what `IntToFloatTensor` does)."""

    def __init__(self, div: float):
        super().__init__()
        self.div = float(div)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float() / self.div
