"""Segmentation metrics: Dice, Jaccard and foreground accuracy from pixel counts summed over the whole set.

A mean of per-batch Dice scores depends on how the set was cut into batches; summing the
intersection and size counts over every batch and dividing once at the end does not.
Predictions are `(bs, n_classes, ...)` scores, classes on `axis`; targets are `(bs, ...)` masks.
"""

from __future__ import annotations

import torch

from layered.core.device import to_detach
from layered.train.metrics.metric import Metric, MetricError, flatten_check

__all__ = ["Dice", "DiceMulti", "ForegroundAccuracy", "JaccardCoeff"]


def _labels(learn, axis: int, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted class (argmax over `axis`) and target class of every pixel, flat, on the CPU."""
    pred = to_detach(learn.pred).as_subclass(torch.Tensor).argmax(dim=axis)
    return flatten_check(pred, to_detach(learn.yb[0]), metric)


class _BinaryOverlap(Metric):
    """Counts of the foreground (class 1) pixels predicted, in the target, and in both."""

    def __init__(self, axis: int = 1):
        self.axis = axis
        self.reset()

    def reset(self) -> None:
        self.inter, self.total = 0, 0  # |A ∩ B| and |A| + |B|

    def accumulate(self, learn) -> None:
        pred, targ = _labels(learn, self.axis, self.name)
        if targ.numel() and (targ.min() < 0 or targ.max() > 1):
            raise MetricError(
                f"{self.name} is binary: mask values must be 0 or 1, found values in "
                f"[{targ.min().item()}, {targ.max().item()}]; use DiceMulti for several classes"
            )
        pred, targ = pred == 1, targ == 1
        self.inter += int((pred & targ).sum())
        self.total += int(pred.sum() + targ.sum())


class Dice(_BinaryOverlap):
    """Binary Dice coefficient 2|A∩B| / (|A| + |B|) of predicted and target foreground, exact."""

    @property
    def value(self) -> float | None:
        return 2 * self.inter / self.total if self.total else None


class JaccardCoeff(_BinaryOverlap):
    """Binary Jaccard index (IoU) |A∩B| / |A∪B| of predicted and target foreground, exact."""

    @property
    def value(self) -> float | None:
        return self.inter / (self.total - self.inter) if self.total else None


class DiceMulti(Metric):
    """Mean over classes of each class's Dice, from whole-set counts; absent classes are skipped.

    A class neither predicted nor present in any target has no Dice (0/0) and is left out of the
    mean, rather than counted as a perfect or a zero score.
    """

    def __init__(self, axis: int = 1):
        self.axis = axis
        self.reset()

    def reset(self) -> None:
        self.inter: torch.Tensor | None = None  # per class |A ∩ B|
        self.total: torch.Tensor | None = None  # per class |A| + |B|

    def accumulate(self, learn) -> None:
        n_classes = learn.pred.shape[self.axis]
        pred, targ = _labels(learn, self.axis, self.name)
        targ = targ.long()
        if targ.numel() and (targ.min() < 0 or targ.max() >= n_classes):
            raise MetricError(
                f"{self.name}: mask values must be class indices in [0, {n_classes}) (predictions have "
                f"{n_classes} classes on axis {self.axis}), found values in "
                f"[{targ.min().item()}, {targ.max().item()}]"
            )
        inter = torch.bincount(targ[pred == targ], minlength=n_classes)
        total = torch.bincount(pred, minlength=n_classes) + torch.bincount(targ, minlength=n_classes)
        if self.inter is None:
            self.inter, self.total = inter, total
        elif len(total) != len(self.total):
            raise MetricError(
                f"{self.name}: this batch has {n_classes} classes, earlier batches had {len(self.total)}"
            )
        else:
            self.inter, self.total = self.inter + inter, self.total + total

    @property
    def value(self) -> float | None:
        if self.total is None or not self.total.any():
            return None
        present = self.total > 0
        return (2 * self.inter[present].double() / self.total[present]).mean().item()


class ForegroundAccuracy(Metric):
    """Pixel accuracy over the pixels whose target is not the background code `bkg_idx`, exact.

    Background pixels are left out of both counts, so a model that predicts background
    everywhere scores 0 rather than the (often large) background share. Summing the counts over
    batches makes the value independent of how the set was cut into batches.
    """

    def __init__(self, bkg_idx: int = 0, axis: int = 1):
        if not isinstance(bkg_idx, int):
            raise MetricError(f"ForegroundAccuracy: bkg_idx must be a class index (int), got {bkg_idx!r}")
        self.bkg_idx, self.axis = bkg_idx, axis
        self.reset()

    def reset(self) -> None:
        self.correct, self.count = 0, 0

    def accumulate(self, learn) -> None:
        pred, targ = _labels(learn, self.axis, self.name)
        foreground = targ != self.bkg_idx
        self.correct += int((pred[foreground] == targ[foreground]).sum())
        self.count += int(foreground.sum())

    @property
    def value(self) -> float | None:
        return self.correct / self.count if self.count else None
