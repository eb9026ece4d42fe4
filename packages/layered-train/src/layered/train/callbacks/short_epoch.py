"""ShortEpochCallback: run only the first part of each epoch, to try a training setup in seconds."""

from __future__ import annotations

from layered.train.callback import Callback, CancelTrainException, CancelValidException
from layered.train.errors import TrainError

__all__ = ["ShortEpochCallback"]


class ShortEpochCallback(Callback):
    """Stop each training phase after a fraction `pct` of its batches (at least one); validation too with `short_valid`.

    Without `short_valid` the whole validation set is still scored, so the metrics stay comparable.
    """

    order = 99  # last: every other callback (the Recorder too) sees the final batch first

    def __init__(self, pct: float = 0.01, short_valid: bool = True):
        if not 0 < pct <= 1:
            raise TrainError(f"ShortEpochCallback: pct must be in (0, 1], got {pct!r}")
        self.pct, self.short_valid = pct, short_valid

    def after_batch(self):
        done = self.learn.iter + 1
        if done < max(1, self.pct * self.learn.n_iter):
            return
        if self.learn.training:
            raise CancelTrainException()
        if self.short_valid:
            raise CancelValidException()
