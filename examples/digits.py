"""The scikit-learn digits as items for the data block API: item `i` is the index of an image."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

__all__ = ["DIGITS", "PIXELS", "get_label", "get_pixels"]

DIGITS = load_digits()
PIXELS = torch.tensor(DIGITS.images.reshape(len(DIGITS.images), -1) / 16.0, dtype=torch.float32)


def get_pixels(i: int) -> torch.Tensor:
    """The 64 pixel intensities of digit `i`, scaled to [0, 1]."""
    return PIXELS[i]


def get_label(i: int) -> str:
    """The label of digit `i` as text ("0" ... "9")."""
    return str(DIGITS.target[i])
