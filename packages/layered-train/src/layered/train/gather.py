"""Collect (or stream) inputs, predictions, targets and per-item losses during a validation pass."""

from __future__ import annotations

from collections.abc import Callable

import torch

from layered.core.device import to_detach
from layered.train.callback import Callback

__all__ = ["GatherPredsCallback"]


def _cat(parts: list):
    if not parts:
        return None
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts) if first.ndim else torch.stack(parts)
    if isinstance(first, (tuple, list)):
        return type(first)(_cat([p[i] for p in parts]) for i in range(len(first)))
    return parts


def _single(t: tuple):
    return t[0] if len(t) == 1 else t


class GatherPredsCallback(Callback):
    """Gather what `Learner.get_preds` returns, batch by batch, detached and on the CPU.

    With `on_batch`, each batch's `(inputs, preds, targets, losses)` is handed to that function
    instead of being kept, so memory does not grow with the dataset.
    """

    order = 70
    run_train = False

    def __init__(
        self,
        with_input: bool = False,
        with_loss: bool = False,
        act: Callable | None = None,
        on_batch: Callable | None = None,
    ):
        self.with_input, self.with_loss, self.act, self.on_batch = with_input, with_loss, act, on_batch

    def before_validate(self):
        self.inputs, self.preds, self.targets, self.losses = [], [], [], []

    def after_loss(self):
        pred = self.act(self.learn.pred) if self.act is not None else self.learn.pred
        pred, yb = to_detach(pred), to_detach(_single(self.learn.yb)) if len(self.learn.yb) else None
        xb = to_detach(_single(self.learn.xb)) if self.with_input else None
        loss = self._item_losses() if self.with_loss else None
        if self.on_batch is not None:
            self.on_batch(xb, pred, yb, loss)
            return
        self.preds.append(pred)
        if yb is not None:
            self.targets.append(yb)
        if self.with_input:
            self.inputs.append(xb)
        if self.with_loss:
            self.losses.append(loss)

    def _item_losses(self):
        if not len(self.learn.yb):
            return None
        loss_func = self.learn.loss_func
        old = getattr(loss_func, "reduction", None)
        if old is not None:
            loss_func.reduction = "none"
        try:
            loss = loss_func(self.learn.pred, *self.learn.yb)
        finally:
            if old is not None:
                loss_func.reduction = old
        bs = self.learn.yb[0].shape[0]
        return to_detach(loss.reshape(bs, -1).mean(1))

    def result(self) -> dict:
        """The gathered tensors, concatenated along the batch dimension."""
        return {
            "inputs": _cat(self.inputs),
            "preds": _cat(self.preds),
            "targets": _cat(self.targets),
            "losses": _cat(self.losses),
        }
