"""Segmentation metrics: Dice and Jaccard from counts accumulated over the whole set."""

from __future__ import annotations

import torch

from layered.train.metric import Metric

__all__ = ["Dice", "DiceMulti", "JaccardCoeff"]


def _pred_targ(learn, axis: int) -> tuple[torch.Tensor, torch.Tensor]:
    pred = learn.pred.as_subclass(torch.Tensor).argmax(dim=axis)
    return pred.reshape(-1), learn.yb[0].as_subclass(torch.Tensor).reshape(-1)


class Dice(Metric):
    """Binary Dice coefficient 2|A∩B| / (|A| + |B|), exact: counts are summed over all batches."""

    def __init__(self, axis: int = 1):
        self.axis = axis
        self.reset()

    def reset(self):
        self.inter, self.union = 0, 0

    def accumulate(self, learn):
        pred, targ = _pred_targ(learn, self.axis)
        self.inter += int((pred * targ).sum())
        self.union += int((pred + targ).sum())

    @property
    def value(self):
        return 2.0 * self.inter / self.union if self.union > 0 else None


class JaccardCoeff(Dice):
    """Binary Jaccard index |A∩B| / |A∪B| over the whole set."""

    @property
    def value(self):
        return self.inter / (self.union - self.inter) if self.union > 0 else None


class DiceMulti(Metric):
    """Mean over classes of the per-class Dice, each from counts over the whole set."""

    def __init__(self, axis: int = 1):
        self.axis = axis
        self.reset()

    def reset(self):
        self.inter, self.union = {}, {}

    def accumulate(self, learn):
        pred, targ = _pred_targ(learn, self.axis)
        for c in range(learn.pred.shape[self.axis]):
            p, t = pred == c, targ == c
            self.inter[c] = self.inter.get(c, 0) + int((p & t).sum())
            self.union[c] = self.union.get(c, 0) + int(p.sum() + t.sum())

    @property
    def value(self):
        scores = [2.0 * self.inter[c] / self.union[c] for c in self.union if self.union[c] > 0]
        return sum(scores) / len(scores) if scores else None
