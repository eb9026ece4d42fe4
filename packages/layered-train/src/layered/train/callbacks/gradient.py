"""Callbacks that act on the gradients between backward and step: clipping and accumulation."""

from __future__ import annotations

import torch

from layered.core.nested import find_bs
from layered.train.callback import Callback, CancelStepException
from layered.train.errors import TrainError

__all__ = ["GradientAccumulation", "GradientClip"]


class GradientClip(Callback):
    """Before each step, rescale the gradients so their global `norm_type`-norm is at most `max_norm`."""

    # after MixedPrecision (10), which unscales fp16 gradients in its own before_step
    order = 20
    run_valid = False

    def __init__(self, max_norm: float = 1.0, norm_type: float = 2.0):
        if max_norm <= 0:
            raise TrainError(f"GradientClip: max_norm must be positive, got {max_norm}")
        self.max_norm, self.norm_type = max_norm, norm_type

    def before_step(self):
        params = [p for p in self.learn.model.parameters() if p.grad is not None]
        self.total_norm = torch.nn.utils.clip_grad_norm_(params, self.max_norm, self.norm_type)


class GradientAccumulation(Callback):
    """Step only once `n_acc` samples have been seen, as if they had come in one batch.

    Each batch's loss is scaled by `batch_size / n_acc`, so for a loss that averages over the
    batch the summed gradients equal those of one batch of `n_acc` samples (when batches do not
    divide `n_acc` evenly, the step averages over the samples actually seen). Between steps the
    gradients are taken out of the parameters, so the Learner's `zero_grad` does not drop them,
    and put back before the next backward, which adds to them.
    """

    # its before_step must run first: a cancelled step must not be unscaled (MixedPrecision) or clipped
    order = 5
    run_valid = False

    def __init__(self, n_acc: int = 32):
        if n_acc < 1:
            raise TrainError(f"GradientAccumulation: n_acc must be a positive number of samples, got {n_acc}")
        self.n_acc = n_acc

    def before_fit(self):
        self.count, self._held = 0, None

    def after_loss(self):
        if not len(self.learn.yb):
            return
        bs = find_bs(self.learn.yb)
        self.count += bs
        self.learn.loss_grad = self.learn.loss_grad * (bs / self.n_acc)

    def before_backward(self):
        if self._held is not None:
            for p, g in self._held:
                p.grad = g
            self._held = None

    def before_step(self):
        if self.count < self.n_acc:
            params = [p for p, _ in self.learn.opt.all_params(with_grad=True)]
            self._held = [(p, p.grad) for p in params]
            for p in params:
                p.grad = None
            raise CancelStepException()
        if self.count != self.n_acc:
            for p, _ in self.learn.opt.all_params(with_grad=True):
                p.grad.mul_(self.n_acc / self.count)
        self.count = 0
