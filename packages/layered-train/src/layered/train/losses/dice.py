"""DiceLoss: one minus the soft Dice score of predicted class probabilities and one-hot targets.

Segmentation with a small foreground trains poorly on a per-pixel cross entropy alone, which
the background dominates; the Dice score weighs each class by its own size. It is often added to
the cross entropy (`CrossEntropyLossFlat(axis=1)`), whose gradients are better behaved early on.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from layered.core.registry import register_serializable
from layered.train.losses._checks import LossError, check_reduction, plain

__all__ = ["DiceLoss"]


@register_serializable
class DiceLoss:
    """`1 - (2|P∩T| + smooth) / (|P| + |T| + smooth)` per item and class, from the softmax over `axis`.

    Predictions are `(bs, n_classes, ...)` scores (classes on `axis`), targets `(bs, ...)` class
    indices; for each item and class, `|P∩T|` sums the predicted probability over the pixels of
    that class, `|P| + |T|` the probabilities and the class's pixel count (their squares with
    `square_in_union`). `reduction` ('sum', 'mean' or 'none') combines the `(bs, n_classes)`
    losses. Softmax activation, argmax decoding, like `CrossEntropyLossFlat`.
    """

    def __init__(
        self, axis: int = 1, smooth: float = 1e-6, reduction: str = "sum", square_in_union: bool = False
    ):
        if smooth < 0:
            raise LossError(f"DiceLoss: smooth must be >= 0, got {smooth}")
        self.axis, self.smooth, self.square_in_union = axis, smooth, square_in_union
        self.reduction = check_reduction(reduction, "DiceLoss")

    def __call__(self, inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
        inp, targ = plain(inp), plain(targ)
        n_classes = inp.shape[self.axis]
        probs = F.softmax(inp, dim=self.axis).movedim(self.axis, -1)  # (bs, ..., n_classes)
        if targ.shape != probs.shape[:-1]:
            raise LossError(
                f"DiceLoss: predictions of shape {tuple(inp.shape)} (classes on axis {self.axis}) need targets "
                f"of shape {tuple(probs.shape[:-1])}, got {tuple(targ.shape)}"
            )
        targ = targ.long()
        if targ.numel() and (targ.min() < 0 or targ.max() >= n_classes):
            raise LossError(
                f"DiceLoss: targets must be class indices in [0, {n_classes}), found values in "
                f"[{targ.min().item()}, {targ.max().item()}]"
            )
        one_hot = F.one_hot(targ, n_classes).to(probs.dtype)
        dims = tuple(range(1, probs.ndim - 1))  # every axis but the items and the classes
        inter = (probs * one_hot).sum(dims)
        if self.square_in_union:
            union = probs.square().sum(dims) + one_hot.sum(dims)
        else:
            union = probs.sum(dims) + one_hot.sum(dims)
        loss = 1 - (2 * inter + self.smooth) / (union + self.smooth)
        if self.reduction == "sum":
            return loss.sum()
        return loss.mean() if self.reduction == "mean" else loss

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities: the softmax over `axis`."""
        return F.softmax(plain(x), dim=self.axis)

    def decodes(self, x: torch.Tensor) -> torch.Tensor:
        """The predicted class: the argmax over `axis`."""
        return plain(x).argmax(dim=self.axis)

    def __repr__(self) -> str:
        return f"DiceLoss(axis={self.axis}, smooth={self.smooth}, reduction={self.reduction!r})"
