"""The learning-rate finder: a short run with exponentially growing lr, then suggestions."""

from __future__ import annotations

import copy
import math
from typing import NamedTuple

import numpy as np
import torch

from layered.train.callback import Callback, CancelFitException, CancelValidException

__all__ = ["LRFinder", "SuggestedLRs", "minimum", "slide", "steep", "valley"]


class SuggestedLRs(NamedTuple):
    """Learning rates suggested by `Learner.lr_find`, one field per suggestion function."""

    valley: float | None = None
    slide: float | None = None
    minimum: float | None = None
    steep: float | None = None


class LRFinder(Callback):
    """Grow the lr from `start_lr` to `end_lr` over `num_it` batches, stopping when the loss diverges.

    The model and optimizer states are copied before and restored after, exactly; NaN or infinite
    losses end the run and are left out of the recorded curve.
    """

    order = 55  # after the Recorder (50), which computes the smoothed loss
    run_valid = False

    def __init__(self, start_lr=1e-7, end_lr=10.0, num_it: int = 100, stop_div: bool = True):
        if not 0 < start_lr < end_lr:
            raise ValueError(f"lr_find needs 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
        self.start_lr, self.end_lr, self.num_it, self.stop_div = start_lr, end_lr, num_it, stop_div

    def before_fit(self):
        self._model_state = copy.deepcopy(self.learn.model.state_dict())
        self._opt_state = copy.deepcopy(self.learn.opt.state_dict())
        self._rng = torch.get_rng_state()
        self.best_loss = float("inf")
        self.lrs, self.losses = [], []

    def before_batch(self):
        self.learn.opt.set_hyper("lr", self._lr(self.learn.train_iter))

    def _lr(self, i: int) -> float:
        return self.start_lr * (self.end_lr / self.start_lr) ** (i / max(self.num_it - 1, 1))

    def after_batch(self):
        loss = float(self.learn.smooth_loss)
        raw = float(self.learn.loss)
        if not (math.isfinite(raw) and math.isfinite(loss)):
            raise CancelFitException()
        self.lrs.append(self.learn.opt.hypers[-1]["lr"])
        self.losses.append(loss)
        self.best_loss = min(self.best_loss, loss)
        if (self.stop_div and loss > 4 * self.best_loss) or self.learn.train_iter + 1 >= self.num_it:
            raise CancelFitException()

    def before_validate(self):
        raise CancelValidException()

    def after_fit(self):
        self.learn.model.load_state_dict(self._model_state)
        self.learn.opt.load_state_dict(self._opt_state)
        self.learn.opt.zero_grad()
        torch.set_rng_state(self._rng)

    def plot(self, skip_end: int = 5, suggestions: dict | None = None):
        """Plot loss against lr on a log scale, marking suggested learning rates."""
        import matplotlib.pyplot as plt

        lrs = self.lrs[:-skip_end] if skip_end and len(self.lrs) > skip_end else self.lrs
        losses = self.losses[: len(lrs)]
        _, ax = plt.subplots()
        ax.plot(lrs, losses)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        for name, lr in (suggestions or {}).items():
            if lr is not None:
                ax.axvline(lr, linestyle="--", alpha=0.6, label=f"{name}: {lr:.2e}")
        if suggestions:
            ax.legend()
        return ax


def _curve(lrs, losses):
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    keep = np.isfinite(losses)
    return lrs[keep], losses[keep]


def minimum(lrs, losses) -> float:
    """A tenth of the learning rate where the loss was lowest."""
    lrs, losses = _curve(lrs, losses)
    return float(lrs[np.argmin(losses)] / 10)


def steep(lrs, losses) -> float:
    """The learning rate where the loss fell fastest (steepest negative slope in log lr)."""
    lrs, losses = _curve(lrs, losses)
    slopes = np.gradient(losses, np.log(lrs))
    return float(lrs[np.argmin(slopes)])


def valley(lrs, losses) -> float:
    """A rate two thirds of the way down the longest descending stretch before the minimum."""
    lrs, losses = _curve(lrs, losses)
    n = len(losses)
    # longest strictly decreasing subsequence ending at each point, by dynamic programming
    length, prev = np.ones(n, dtype=int), np.full(n, -1)
    for i in range(n):
        for j in range(i):
            if losses[j] > losses[i] and length[j] + 1 > length[i]:
                length[i], prev[i] = length[j] + 1, j
    end = int(np.argmax(length))
    start = end
    while prev[start] != -1:
        start = prev[start]
    idx = start + int(round((end - start) * 2 / 3))
    return float(lrs[idx])


def slide(lrs, losses, lr_diff: int = 15, thresh: float = 0.005, adjust_value: float = 1.0) -> float:
    """Walk back from the end of the curve to where the loss stops falling by more than `thresh`."""
    lrs, losses = _curve(lrs, losses)
    grads = np.gradient(losses, np.log10(lrs))
    r = len(losses) - 1
    lr_diff = min(lr_diff, r)
    local_min = lrs[np.argmin(losses)]
    while r - lr_diff >= 0:
        if np.abs(grads[r - lr_diff : r]).mean() < thresh or grads[r] > 0:
            r -= 1
        else:
            break
    return float(min(lrs[r], local_min) * adjust_value)
