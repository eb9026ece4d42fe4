"""Callbacks for recurrent text models: hidden-state resets and activation regularisation.

The text models return `(prediction, raw_output, dropped_output)`. `RNNCallback` keeps the last
two and hands the prediction alone to the loss and metrics; `RNNRegularizer` adds to the loss

- AR, activation regularisation: `alpha * mean(dropped_output ** 2)`, which keeps the last
  layer's (dropped) activations small, and
- TAR, temporal activation regularisation: `beta * mean((raw_output[:, t+1] - raw_output[:, t]) ** 2)`,
  which keeps them from jumping between time steps

(Merity et al., 2017). The penalties change the gradient only: the recorded loss, and so the
perplexity, stay the plain loss.
"""

from __future__ import annotations

import torch

from layered.core.registry import register_serializable
from layered.text.errors import TextError
from layered.train.callback import Callback

__all__ = ["ModelResetter", "RNNCallback", "RNNRegularizer"]


class ModelResetter(Callback):
    """Reset the model's carried hidden state before training, before each training and validation pass, and after fit."""

    def _reset(self) -> None:
        reset = getattr(self.learn.model, "reset", None)
        if reset is not None:
            reset()

    def before_train(self):
        self._reset()

    def before_validate(self):
        self._reset()

    def after_fit(self):
        self._reset()


@register_serializable
class RNNCallback(Callback):
    """Split a `(prediction, raw_output, dropped_output)` model output; the loss sees the prediction alone.

    The outputs are kept as `raw_out` and `out` (None when the model returned a plain tensor).
    """

    order = -5  # before the callbacks that read the prediction (metrics, gathering)
    for_inference = True  # a loaded learner must split the model's output too

    def __init__(self):
        self.raw_out: torch.Tensor | None = None
        self.out: torch.Tensor | None = None

    def after_pred(self):
        pred = self.learn.pred
        if isinstance(pred, (tuple, list)):
            if len(pred) != 3:
                raise TextError(
                    f"RNNCallback: the model returned {len(pred)} outputs; expected "
                    "(prediction, raw_output, dropped_output) or a single tensor"
                )
            self.learn.pred, self.raw_out, self.out = pred
        else:
            self.raw_out = self.out = None


class RNNRegularizer(Callback):
    """Add AR (`alpha`, on the dropped outputs) and TAR (`beta`, on the raw outputs) to the training loss."""

    run_valid = False
    run_after = (RNNCallback,)

    def __init__(self, alpha: float = 2.0, beta: float = 1.0):
        self.alpha, self.beta = alpha, beta

    def before_fit(self):
        rnn = getattr(self.learn, "rnn", None)
        if not isinstance(rnn, RNNCallback):
            raise TextError("RNNRegularizer needs an RNNCallback on the learner to read the model's outputs")

    def after_loss(self):
        rnn = self.learn.rnn
        if not len(self.learn.yb) or rnn.raw_out is None:
            return
        penalty = 0.0
        if self.alpha:
            penalty = penalty + self.alpha * rnn.out.float().pow(2).mean()
        if self.beta and rnn.raw_out.shape[1] > 1:
            raw = rnn.raw_out.float()
            penalty = penalty + self.beta * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        self.learn.loss_grad = self.learn.loss_grad + penalty
