"""SWACallback: stochastic weight averaging — the equal average of the weights seen at the end of the last epochs.

From epoch `start_epoch` on, the weights at the end of each epoch join an equal average
(`torch.optim.swa_utils.AveragedModel`); `swa_lr` optionally holds the learning rate constant
over those epochs, as the SWA paper does. At the end of the fit the average replaces the
model's weights, and, because averaged weights do not match any running statistics, one pass
over the training data recomputes the batch-norm statistics (`update_bn`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from layered.train.callback import Callback
from layered.train.distributed import unwrap_model
from layered.train.errors import TrainError

__all__ = ["SWACallback", "update_bn"]

_BN = nn.modules.batchnorm._BatchNorm


@torch.no_grad()
def update_bn(learn: Any, dl: Any = None) -> None:
    """Recompute the batch-norm running statistics of `learn.model` in one pass over `dl` (default the training loader).

    Each statistic becomes the plain average over the batches (momentum None), as
    `torch.optim.swa_utils.update_bn` does, but the batches are split into the model's inputs
    the learner's way (`n_inp`), so models with several inputs work.
    """
    model = learn.model
    bns = [m for m in model.modules() if isinstance(m, _BN)]
    if not bns:
        return
    momenta = {m: m.momentum for m in bns}
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    was_training = model.training
    model.train()
    try:
        for b in learn.dls.train if dl is None else dl:
            learn._split(b)
            xb = tuple(x.to(learn.device) if isinstance(x, torch.Tensor) else x for x in learn.xb)
            model(*xb)
    finally:
        for m, momentum in momenta.items():
            m.momentum = momentum
        model.train(was_training)
        learn.xb, learn.yb = (), ()


class SWACallback(Callback):
    """Average the end-of-epoch weights from `start_epoch` on; finish with the average and fresh batch-norm statistics."""

    order = 70  # after the schedulers (60), so `swa_lr` overrides theirs

    def __init__(self, start_epoch: int = 0, swa_lr: float | None = None):
        if not isinstance(start_epoch, int) or start_epoch < 0:
            raise TrainError(f"SWACallback: start_epoch must be an integer >= 0, got {start_epoch!r}")
        if swa_lr is not None and not swa_lr > 0:
            raise TrainError(f"SWACallback: swa_lr must be positive, got {swa_lr!r}")
        self.start_epoch, self.swa_lr = start_epoch, swa_lr
        self.averaged: AveragedModel | None = None

    def before_fit(self):
        if self.start_epoch >= self.learn.n_epoch:
            raise TrainError(
                f"SWACallback: start_epoch {self.start_epoch} is past the last epoch of this fit "
                f"({self.learn.n_epoch} epochs); nothing would be averaged"
            )
        self.averaged = AveragedModel(unwrap_model(self.learn.model))

    def before_batch(self):
        if self.swa_lr is not None and self.learn.training and self.learn.epoch >= self.start_epoch:
            self.learn.opt.set_hyper("lr", self.swa_lr)

    def after_train(self):
        if self.learn.epoch >= self.start_epoch:
            self.averaged.update_parameters(unwrap_model(self.learn.model))

    def after_fit(self):
        if self.averaged is None or self.averaged.n_averaged == 0:
            return
        unwrap_model(self.learn.model).load_state_dict(self.averaged.module.state_dict())
        update_bn(self.learn)
        self.learn.model.eval()
