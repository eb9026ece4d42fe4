"""Monte-Carlo dropout: predictions with dropout left on, several times, to see how sure the model is."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from layered.train.callback import Callback
from layered.train.errors import TrainError

__all__ = ["MCDropoutCallback", "mc_dropout_preds"]

_DROPOUT = nn.modules.dropout._DropoutNd


class MCDropoutCallback(Callback):
    """While predicting, put the model's dropout layers back in train mode (everything else, batch norm included, stays in eval)."""

    order = -5  # after TrainEvalCallback (-10), which puts the model in eval mode for validation

    def before_validate(self):
        for m in self.learn.model.modules():
            if isinstance(m, _DROPOUT):
                m.train()


def mc_dropout_preds(
    learn: Any, ds_idx: int = 1, dl: Any = None, n_samples: int = 10, **kwargs: Any
) -> tuple:
    """`n_samples` passes of `learn.get_preds` with dropout on: `(preds, targets)`, preds stacked as `(n_samples, n_items, ...)`.

    Their mean is the Monte-Carlo estimate of the prediction and their spread (`preds.std(0)`)
    its uncertainty. Other keywords go to `get_preds` (e.g. `act`). A model without dropout
    layers is refused: every sample would be the same.
    """
    if not isinstance(n_samples, int) or n_samples < 1:
        raise TrainError(f"mc_dropout_preds: n_samples must be a positive integer, got {n_samples!r}")
    if not any(isinstance(m, _DROPOUT) for m in learn.model.modules()):
        raise TrainError(
            f"mc_dropout_preds: the model ({type(learn.model).__name__}) has no dropout layer, so every "
            "sample would be the same; expected a model with nn.Dropout layers"
        )
    samples, targets = [], None
    with learn.added_cbs(MCDropoutCallback()):
        for _ in range(n_samples):
            preds, targets = learn.get_preds(ds_idx=ds_idx, dl=dl, **kwargs)[:2]
            samples.append(preds)
    learn.model.eval()
    return torch.stack(samples), targets
