"""The Recorder: losses, metrics and hyper-parameters of every batch and epoch.

No host-device synchronisation per batch: the batch losses stay tensors on their device and are
read in one transfer when something asks for them (`losses`, `learn.smooth_loss`, the progress
bar every `ProgressCallback.every` batches) and at the end of each phase. The check for
non-finite losses runs on what was read, and names the first bad batch.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import torch

from layered.train.callback import Callback
from layered.train.callbacks.tracker import TerminateOnNaNCallback
from layered.train.metrics.metric import AvgLoss, AvgSmoothLoss, batch_floats

__all__ = ["Recorder"]

# batch losses held before they are read in one transfer: bounds the memory of a long epoch
_MAX_PENDING = 1024


class Recorder(Callback):
    """Record per-batch loss and smoothed loss, lrs and moms, and per-epoch losses and metrics.

    `values` holds one row of numbers per epoch (columns: `value_names`), `times` the seconds
    each epoch took; the row logged at the end of each epoch (a table row in the progress bar,
    or `print`) adds the epoch number and, with `add_time`, the time as `mm:ss`. A cancelled
    batch is not recorded.
    """

    order = 50

    def __init__(
        self, add_time: bool = True, train_metrics: bool = False, valid_metrics: bool = True, beta=0.98
    ):
        self.add_time, self.train_metrics, self.valid_metrics = add_time, train_metrics, valid_metrics
        self.loss, self.smooth_loss = AvgLoss(), AvgSmoothLoss(beta=beta)
        self.lrs, self.moms, self.iters, self.values, self.times = [], [], [], [], []
        self._losses: list[float] = []
        # batch losses not yet read from the device: (loss, epoch, batch, training)
        self._pending: list[tuple[torch.Tensor, int, int, bool]] = []
        self._nonfinite_seen = False
        self.log: list = []
        self._header_due = True

    @property
    def metric_names(self) -> list[str]:
        """Column names of the logged table: epoch, losses, metrics and time."""
        return ["epoch", *self.value_names] + (["time"] if self.add_time else [])

    @property
    def value_names(self) -> list[str]:
        """Column names of `values`: the losses and metrics."""
        names = [m.name for m in self.learn.metrics]
        cols = ["train_loss"] + (["train_" + n for n in names] if self.train_metrics else [])
        return cols + (["valid_loss", *names] if self.valid_metrics else [])

    @property
    def losses(self) -> list[float]:
        """The smoothed training loss after each recorded training batch."""
        self.flush()
        return self._losses

    @losses.setter
    def losses(self, value: list[float]) -> None:
        self._pending = [p for p in self._pending if not p[3]]
        self._losses = list(value)

    @property
    def smooth_value(self) -> float:
        """The smoothed training loss now (NaN before the first batch): reads the kept losses."""
        self.flush()
        value = self.smooth_loss.value
        return float("nan") if value is None else value

    def flush(self) -> None:
        """Read the batch losses kept on the device: smoothed losses, and a warning if one is not finite."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        for value, (_, epoch, batch, training) in zip(batch_floats([p[0] for p in pending]), pending):
            if not math.isfinite(value) and not self._nonfinite_seen:
                self._warn_nonfinite(value, epoch, batch, training)
            if training:
                self.smooth_loss.add(value)
                self._losses.append(self.smooth_loss.value)

    def _warn_nonfinite(self, value: float, epoch: int, batch: int, training: bool) -> None:
        """Warn, once per fit, that a batch's loss was NaN or infinite (the weights may follow)."""
        self._nonfinite_seen = True
        phase = "training" if training else "validation"
        hint = (
            ""
            if any(isinstance(c, TerminateOnNaNCallback) for c in self.learn.cbs)
            else ", or add TerminateOnNaNCallback to stop before the optimizer step"
        )
        warnings.warn(
            f"non-finite loss {value} at epoch {epoch}, batch {batch} ({phase}); expected a finite "
            f"number: lower the learning rate, check the inputs and targets{hint}",
            RuntimeWarning,
            stacklevel=2,
        )

    def before_fit(self):
        self.lrs, self.moms, self.iters, self.values, self.times = [], [], [], [], []
        self._losses, self._pending, self._nonfinite_seen = [], [], False
        self.smooth_loss.reset()
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
        self._pending.append((learn.loss, learn.epoch, learn.iter, learn.training))
        if len(self._pending) >= _MAX_PENDING:
            self.flush()
        if learn.training:
            self.iters.append(learn.train_iter)
            hypers = learn.opt.hypers[-1]
            self.lrs.append(hypers["lr"])
            if "mom" in hypers:
                self.moms.append(hypers["mom"])

    def after_train(self):
        self.flush()
        self.log += [m.value for m in self._active]

    def after_validate(self):
        self.flush()
        if self.valid_metrics:
            self.log += [m.value for m in self._active]

    def after_cancel_train(self):
        self.log += [float("nan")] * (1 + (len(self.learn.metrics) if self.train_metrics else 0))

    def after_epoch(self):
        elapsed = time.time() - self.start_epoch
        self.values.append([_number(v) for v in self.log[1:]])
        self.times.append(elapsed)
        if self.add_time:
            self.log.append(_format_time(elapsed))
        if self._header_due:  # logged here, once the progress bar (if any) has taken over the logger
            self.learn.logger(self.metric_names)
            self._header_due = False
        self.learn.logger(self.log)

    @property
    def final_record(self) -> list:
        """The values of the last epoch."""
        return self.values[-1]

    def plot_loss(self, skip_start: int = 5, with_valid: bool = True):
        """Plot training (smoothed) and validation losses; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
        ax.plot(self.iters[skip_start:], self.losses[skip_start:], label="train")
        names = self.value_names
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


def _number(v) -> float:
    """A logged value as a number: tensors and NumPy scalars become floats, a missing value NaN."""
    if v is None:
        return float("nan")
    return v.item() if hasattr(v, "item") else v


def _format_time(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
