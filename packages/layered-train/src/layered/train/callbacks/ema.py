"""EMACallback: keep an exponential moving average of the weights while training, and use it.

The average `a ← d·a + (1 − d)·w` is updated after every optimizer step; with `warmup`, the decay
`d` is `min(decay, (1 + t) / (10 + t))` at step `t`, so the first steps (far from where the
weights settle) are forgotten quickly. Floating-point buffers (batch-norm statistics) are
averaged the same way; integer ones follow the model. Validation scores the averaged weights
(`validate_averaged`), and at the end of the fit they replace the model's (`keep_averaged`), so
`learn.export()`, `save` and `predict` use them.
"""

from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel

from layered.train.callback import Callback
from layered.train.distributed import unwrap_model
from layered.train.errors import TrainError

__all__ = ["EMACallback"]


class EMACallback(Callback):
    """Average the weights exponentially (decay `decay`, after `warmup`); validate and finish with the average."""

    order = 70  # after the schedulers (60): the average follows the step they configured

    def __init__(
        self,
        decay: float = 0.999,
        warmup: bool = True,
        validate_averaged: bool = True,
        keep_averaged: bool = True,
    ):
        if not 0 < decay < 1:
            raise TrainError(f"EMACallback: decay must be in (0, 1), got {decay!r}")
        self.decay, self.warmup = decay, warmup
        self.validate_averaged, self.keep_averaged = validate_averaged, keep_averaged
        self.averaged: AveragedModel | None = None
        self._live: dict | None = None
        self._step_cancelled = False

    def _avg(self, averaged: torch.Tensor, current: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        d = min(self.decay, (1 + float(n)) / (10 + float(n))) if self.warmup else self.decay
        if not averaged.is_floating_point():
            return current  # counters (num_batches_tracked) follow the model
        return averaged * d + current * (1 - d)

    def before_fit(self):
        self.averaged = AveragedModel(unwrap_model(self.learn.model), avg_fn=self._avg, use_buffers=True)

    def before_batch(self):
        self._step_cancelled = False

    def after_cancel_step(self):
        self._step_cancelled = True  # e.g. GradientAccumulation between its steps: the weights did not move

    def after_step(self):
        if not self._step_cancelled:
            self.averaged.update_parameters(unwrap_model(self.learn.model))

    def _swap_in(self) -> None:
        model = unwrap_model(self.learn.model)
        self._live = {k: v.clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.averaged.module.state_dict())

    def _swap_out(self) -> None:
        if self._live is not None:
            unwrap_model(self.learn.model).load_state_dict(self._live)
            self._live = None

    def before_validate(self):
        if self.validate_averaged and self.averaged.n_averaged > 0:
            self._swap_in()

    def after_validate(self):
        self._swap_out()

    def after_fit(self):
        self._swap_out()
        if self.keep_averaged and self.averaged is not None and self.averaged.n_averaged > 0:
            unwrap_model(self.learn.model).load_state_dict(self.averaged.module.state_dict())
