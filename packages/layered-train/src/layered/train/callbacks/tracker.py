"""Callbacks that watch one recorded value per epoch: save the best model, stop early, lower the lr.

Each reads the value its `monitor` names (a column of the Recorder, `valid_loss` by default)
after every epoch and decides whether it improved; NaN losses stop training at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from layered.train.callback import Callback, CancelFitException
from layered.train.errors import TrainError

__all__ = [
    "EarlyStoppingCallback",
    "ReduceLROnPlateau",
    "SaveModelCallback",
    "TerminateOnNaNCallback",
    "TrackerCallback",
]


class TrackerCallback(Callback):
    """Track the best value of `monitor` over epochs; `self.improved` says whether the last one was best.

    `comp(new, best)` is true when `new` is better; by default `np.less` for names containing
    `loss` or `error`, `np.greater` otherwise. A value counts as better only when it beats the best
    by more than `min_delta`. With `reset_on_fit=False` the best carries over from one fit to the next.
    """

    # after the Recorder (50) has stored the epoch's values
    order = 60

    def __init__(
        self,
        monitor: str = "valid_loss",
        comp: Callable | None = None,
        min_delta: float = 0.0,
        reset_on_fit: bool = True,
    ):
        if comp is None:
            comp = np.less if "loss" in monitor or "error" in monitor else np.greater
        self.monitor, self.comp, self.reset_on_fit = monitor, comp, reset_on_fit
        # the margin is applied to `new - min_delta`, so for "lower is better" it must be negative
        self.min_delta = -abs(min_delta) if comp is np.less else abs(min_delta)
        self.best: float | None = None
        self.improved = False

    def before_fit(self):
        names = self.learn.recorder.value_names if hasattr(self.learn, "recorder") else []
        if self.monitor not in names:
            raise TrainError(
                f"{type(self).__name__}: monitor={self.monitor!r} is not a recorded value; "
                f"the Recorder records {names} (add the metric, or a Recorder, to the Learner)"
            )
        self._idx = names.index(self.monitor)
        if self.reset_on_fit or self.best is None:
            self.best = float("inf") if self.comp is np.less else -float("inf")

    def after_epoch(self):
        value = self.learn.recorder.values[-1][self._idx]
        self.last_value = value
        self.improved = bool(self.comp(value - self.min_delta, self.best))
        if self.improved:
            self.best = value


class SaveModelCallback(TrackerCallback):
    """Save the model whenever `monitor` improves (or every epoch) and load the best one after fit.

    Files go through `learn.save`, so each write is atomic. `every_epoch=True` saves
    `fname_{epoch}` each epoch (an int `n`: every `n` epochs) and loads nothing at the end;
    `at_end=True` saves `fname` once, after the last epoch, instead of the best.
    """

    def __init__(
        self,
        monitor: str = "valid_loss",
        comp: Callable | None = None,
        min_delta: float = 0.0,
        fname: str = "model",
        every_epoch: bool | int = False,
        at_end: bool = False,
        with_opt: bool = False,
        reset_on_fit: bool = True,
    ):
        super().__init__(monitor, comp, min_delta, reset_on_fit)
        if at_end and every_epoch:
            raise TrainError("SaveModelCallback: at_end=True and every_epoch are exclusive; pick one")
        self.fname, self.every_epoch, self.at_end, self.with_opt = fname, every_epoch, at_end, with_opt
        self.best_epoch: int | None = None

    def before_fit(self):
        super().before_fit()
        self.best_epoch = None

    def after_epoch(self):
        super().after_epoch()
        epoch = self.learn.epoch
        if self.every_epoch:
            if epoch % int(self.every_epoch) == 0:
                self.learn.save(f"{self.fname}_{epoch}", with_opt=self.with_opt)
        elif self.improved and not self.at_end:
            self.best_epoch = epoch
            self.learn.save(self.fname, with_opt=self.with_opt)

    def after_fit(self):
        if self.at_end:
            self.learn.save(self.fname, with_opt=self.with_opt)
        elif self.best_epoch is not None:
            self.learn.load(self.fname, with_opt=self.with_opt)


class EarlyStoppingCallback(TrackerCallback):
    """Stop training when `monitor` has not improved by more than `min_delta` for `patience` epochs."""

    # after the other trackers, so they see the epoch that stops the fit
    order = 65

    def __init__(
        self,
        monitor: str = "valid_loss",
        comp: Callable | None = None,
        min_delta: float = 0.0,
        patience: int = 1,
        reset_on_fit: bool = True,
    ):
        super().__init__(monitor, comp, min_delta, reset_on_fit)
        self.patience = patience

    def before_fit(self):
        super().before_fit()
        self.wait, self.stopped_epoch = 0, None

    def after_epoch(self):
        super().after_epoch()
        self.wait = 0 if self.improved else self.wait + 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.learn.epoch
            print(
                f"No improvement in {self.monitor} for {self.wait} epochs: stopping after epoch {self.epoch}"
            )
            raise CancelFitException()


class ReduceLROnPlateau(TrackerCallback):
    """Divide every group's lr by `factor` (not below `min_lr`) after `patience` epochs without improvement."""

    def __init__(
        self,
        monitor: str = "valid_loss",
        comp: Callable | None = None,
        min_delta: float = 0.0,
        patience: int = 1,
        factor: float = 10.0,
        min_lr: float = 0.0,
        reset_on_fit: bool = True,
    ):
        super().__init__(monitor, comp, min_delta, reset_on_fit)
        if factor <= 1:
            raise TrainError(f"ReduceLROnPlateau: factor must be > 1 to lower the lr, got {factor}")
        self.patience, self.factor, self.min_lr = patience, factor, min_lr

    def before_fit(self):
        super().before_fit()
        self.wait = 0

    def after_epoch(self):
        super().after_epoch()
        self.wait = 0 if self.improved else self.wait + 1
        if self.wait < self.patience:
            return
        self.wait = 0
        old = [h["lr"] for h in self.learn.opt.hypers]
        new = [max(lr / self.factor, self.min_lr) for lr in old]
        if new != old:
            self.learn.opt.set_hyper("lr", new)
            print(f"Epoch {self.epoch}: reducing lr from {old} to {new}")


class TerminateOnNaNCallback(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite, before its backward pass and optimizer step.

    The weights are left as they were before that batch (finite), and the batch is not recorded.
    """

    order = 0

    def after_loss(self):
        loss = self.learn.loss
        if loss is not None and not bool(torch.isfinite(loss).all()):
            print(f"Non-finite loss {loss.tolist()} at epoch {self.epoch}, batch {self.iter}: stopping")
            raise CancelFitException()
