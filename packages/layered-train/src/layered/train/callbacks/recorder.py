"""The Recorder: losses, metrics and hyper-parameters of every batch and epoch."""

from __future__ import annotations

import time

import numpy as np

from layered.train.callback import Callback
from layered.train.metrics.metric import AvgLoss, AvgSmoothLoss

__all__ = ["Recorder"]


class Recorder(Callback):
    """Record per-batch loss and smoothed loss, lrs and moms, and per-epoch losses and metrics.

    A cancelled batch is not recorded. At the end of each epoch the row of values is passed to
    `learn.logger` (a table row in the progress bar, or `print`).
    """

    order = 50

    def __init__(
        self, add_time: bool = True, train_metrics: bool = False, valid_metrics: bool = True, beta=0.98
    ):
        self.add_time, self.train_metrics, self.valid_metrics = add_time, train_metrics, valid_metrics
        self.loss, self.smooth_loss = AvgLoss(), AvgSmoothLoss(beta=beta)
        self.lrs, self.moms, self.iters, self.losses, self.values = [], [], [], [], []
        self.log: list = []
        self._header_due = True

    @property
    def metric_names(self) -> list[str]:
        """Column names of `values`: epoch, losses, metrics and time."""
        names = [m.name for m in self.learn.metrics]
        cols = ["train_loss"] + (["train_" + n for n in names] if self.train_metrics else [])
        if self.valid_metrics:
            cols += ["valid_loss", *names]
        return ["epoch", *cols] + (["time"] if self.add_time else [])

    def before_fit(self):
        self.lrs, self.moms, self.iters, self.losses, self.values = [], [], [], [], []
        self.smooth_loss.reset()
        self.learn.smooth_loss = float("nan")
        self._header_due = True

    def before_epoch(self):
        self.start_epoch = time.time()
        self.log = [self.learn.epoch]

    def before_train(self):
        self._reset(self.train_metrics)

    def before_validate(self):
        self._reset(self.valid_metrics)

    def _reset(self, with_metrics: bool):
        self.loss.reset()
        self._active = [self.loss, *(self.learn.metrics if with_metrics else [])]
        for m in self._active[1:]:
            m.reset()
        self._cancelled = False

    def after_cancel_batch(self):
        self._cancelled = True

    def after_batch(self):
        learn = self.learn
        if self._cancelled or not len(learn.yb):
            self._cancelled = False
            return
        for m in self._active:
            m.accumulate(learn)
        if learn.training:
            self.smooth_loss.accumulate(learn)
            learn.smooth_loss = self.smooth_loss.value
            self.losses.append(learn.smooth_loss)
            self.iters.append(learn.train_iter)
            hypers = learn.opt.hypers[-1]
            self.lrs.append(hypers["lr"])
            if "mom" in hypers:
                self.moms.append(hypers["mom"])

    def after_train(self):
        self.log += [m.value for m in self._active]

    def after_validate(self):
        if self.valid_metrics:
            self.log += [m.value for m in self._active]

    def after_cancel_train(self):
        self.log += [float("nan")] * (1 + (len(self.learn.metrics) if self.train_metrics else 0))

    def after_epoch(self):
        if self.add_time:
            self.log.append(_format_time(time.time() - self.start_epoch))
        self.values.append([v.item() if hasattr(v, "item") else v for v in self.log[1:]])
        if self._header_due:  # logged here, once the progress bar (if any) has taken over the logger
            self.learn.logger(self.metric_names)
            self._header_due = False
        self.learn.logger(self.log)

    @property
    def final_record(self) -> list:
        """The values of the last epoch, without the time column."""
        return self.values[-1][:-1] if self.add_time else self.values[-1]

    def plot_loss(self, skip_start: int = 5, with_valid: bool = True):
        """Plot training (smoothed) and validation losses; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
        ax.plot(self.iters[skip_start:], self.losses[skip_start:], label="train")
        names = self.metric_names[1:]
        if with_valid and "valid_loss" in names and self.values:
            per_epoch = len(self.iters) / max(len(self.values), 1)
            x = np.arange(1, len(self.values) + 1) * per_epoch + (self.iters[0] if self.iters else 0) - 1
            ax.plot(x, [v[names.index("valid_loss")] for v in self.values], marker="o", label="valid")
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss")
        ax.legend()
        return ax

    def plot_sched(self):
        """Plot the learning rate (and momentum, if any) against the iteration."""
        import matplotlib.pyplot as plt

        n = 2 if self.moms else 1
        _, axs = plt.subplots(1, n, figsize=(6 * n, 4), squeeze=False)
        axs[0, 0].plot(self.iters, self.lrs)
        axs[0, 0].set_title("learning rate")
        if self.moms:
            axs[0, 1].plot(self.iters, self.moms)
            axs[0, 1].set_title("momentum")
        return axs[0]


def _format_time(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
