"""GradualUnfreezing: ULMFiT's gradual unfreezing inside one training run, a group at a time."""

from __future__ import annotations

from layered.train.callback import Callback
from layered.train.errors import TrainError

__all__ = ["GradualUnfreezing"]


class GradualUnfreezing(Callback):
    """Train the last parameter group first, then thaw one more group each `every` of the run.

    For training progress `pct_train` in `[k * every, (k + 1) * every)` the last `k + 1` groups
    train; once every group has its turn the whole model trains to the end of the run. ULMFiT thaws
    a layer per epoch over separate `fit` calls; this does it within one schedule (one 1cycle,
    say), so a short fine-tune can thaw early. Groups already training keep their optimizer state.
    The model is left as the run's end found it: wholly trainable unless `every` leaves a group
    without its turn (`every * (n_groups - 1) >= 1`).
    """

    run_valid = False

    def __init__(self, every: float = 0.05):
        if isinstance(every, bool) or not isinstance(every, (int, float)) or not 0 < every <= 1:
            raise TrainError(
                f"GradualUnfreezing: every must be a fraction of the run in (0, 1], got {every!r}"
            )
        self.every = float(every)

    def before_fit(self):
        self.n_groups = len(self.learn.opt.param_lists)
        self.thawed = None
        self._thaw()

    def before_batch(self):
        self._thaw()

    def _thaw(self):
        n_training = min(int(self.learn.pct_train / self.every) + 1, self.n_groups)
        if n_training != self.thawed:
            self.learn.opt.freeze_to(0 if n_training == self.n_groups else -n_training)
            self.thawed = n_training
