"""Schedule any optimizer hyper-parameter over the course of training."""

from __future__ import annotations

from collections.abc import Callable

from layered.train.callback import Callback

__all__ = ["ParamScheduler"]


class ParamScheduler(Callback):
    """Before every training batch, set each hyper-parameter to `sched(pct_train)`.

    `scheds` maps a hyper-parameter name (`lr`, `mom`, `wd`, ...) to a function of the training
    progress in [0, 1] that returns a number or one value per parameter group. The values used
    are kept in `self.hps` for plotting.
    """

    order = 60
    run_valid = False

    def __init__(self, scheds: dict[str, Callable]):
        self.scheds = dict(scheds)

    def before_fit(self):
        self.hps = {name: [] for name in self.scheds}
        self._update(self.learn.pct_train)

    def before_batch(self):
        self._update(self.learn.pct_train)

    def _update(self, pos: float):
        for name, sched in self.scheds.items():
            value = sched(pos)
            self.learn.opt.set_hyper(name, value)
            self.hps[name].append(value)
