"""Losses that flatten their inputs and carry their activation and decoding.

`CrossEntropyLossFlat(axis=1)` takes `(bs, classes, h, w)` predictions and `(bs, h, w)` targets
as readily as `(bs, classes)` and `(bs,)`; `loss.activation(pred)` gives probabilities and
`loss.decodes(pred)` the predicted labels, which is how `get_preds` and `predict` decode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BCEWithLogitsLossFlat",
    "BaseLossFlat",
    "CrossEntropyLossFlat",
    "FocalLoss",
    "FocalLossFlat",
    "L1LossFlat",
    "LabelSmoothingCrossEntropy",
    "LabelSmoothingCrossEntropyFlat",
    "MSELossFlat",
]


def _plain(t):
    return t.as_subclass(torch.Tensor) if isinstance(t, torch.Tensor) and type(t) is not torch.Tensor else t


class BaseLossFlat:
    """Wrap a loss module: move `axis` last, flatten predictions and targets, then call it."""

    def __init__(
        self,
        loss_cls,
        *args,
        axis: int = -1,
        flatten: bool = True,
        floatify: bool = False,
        is_2d: bool = True,
        **kwargs,
    ):
        self.func = loss_cls(*args, **kwargs)
        self.axis, self.flatten, self.floatify, self.is_2d = axis, flatten, floatify, is_2d

    @property
    def reduction(self) -> str:
        """'mean', 'sum' or 'none' (per-item losses, used by `get_preds(with_loss=True)`)."""
        return self.func.reduction

    @reduction.setter
    def reduction(self, value: str) -> None:
        self.func.reduction = value

    def __call__(self, inp: torch.Tensor, targ: torch.Tensor, **kwargs) -> torch.Tensor:
        inp, targ = _plain(inp), _plain(targ)
        if targ.dtype in (torch.int8, torch.int16, torch.int32, torch.uint8) and not self.floatify:
            targ = targ.long()
        if self.floatify and targ.dtype != torch.float32:
            targ = targ.float()
        if inp.ndim > 1 and self.axis != -1:
            inp = inp.movedim(self.axis, -1).contiguous()
        if self.flatten:
            inp = inp.reshape(-1, inp.shape[-1]) if self.is_2d else inp.reshape(-1)
            targ = targ.reshape(-1)
        return self.func(inp, targ, **kwargs)

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """The predictions as the loss sees them (identity for regression)."""
        return x

    def decodes(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions → decoded targets (identity for regression)."""
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.func!r}, axis={self.axis})"


class CrossEntropyLossFlat(BaseLossFlat):
    """Cross entropy on flattened predictions; softmax activation, argmax decoding."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(nn.CrossEntropyLoss, *args, axis=axis, **kwargs)

    def activation(self, x):
        return F.softmax(_plain(x), dim=self.axis)

    def decodes(self, x):
        return _plain(x).argmax(dim=self.axis)


class BCEWithLogitsLossFlat(BaseLossFlat):
    """Binary cross entropy on logits (multi-label); sigmoid activation, decoding by `thresh`."""

    def __init__(self, *args, axis: int = -1, thresh: float = 0.5, **kwargs):
        super().__init__(nn.BCEWithLogitsLoss, *args, axis=axis, floatify=True, is_2d=False, **kwargs)
        self.thresh = thresh

    def activation(self, x):
        return torch.sigmoid(_plain(x))

    def decodes(self, x):
        return _plain(x) > self.thresh


class MSELossFlat(BaseLossFlat):
    """Mean squared error on flattened predictions and targets."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(nn.MSELoss, *args, axis=axis, floatify=True, is_2d=False, **kwargs)


class L1LossFlat(BaseLossFlat):
    """Mean absolute error on flattened predictions and targets."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(nn.L1Loss, *args, axis=axis, floatify=True, is_2d=False, **kwargs)


class LabelSmoothingCrossEntropy(nn.Module):
    """Cross entropy against targets smoothed by `eps`: (1-eps) on the true class, eps spread evenly."""

    def __init__(self, eps: float = 0.1, weight: torch.Tensor | None = None, reduction: str = "mean"):
        super().__init__()
        self.eps, self.weight, self.reduction = eps, weight, reduction

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        c = output.shape[-1]
        log_preds = F.log_softmax(output, dim=-1)
        uniform = -log_preds.sum(dim=-1) / c
        nll = F.nll_loss(log_preds, target.long(), weight=self.weight, reduction="none")
        loss = self.eps * uniform + (1 - self.eps) * nll
        return loss.mean() if self.reduction == "mean" else loss.sum() if self.reduction == "sum" else loss


class LabelSmoothingCrossEntropyFlat(BaseLossFlat):
    """Flattened label-smoothing cross entropy; softmax activation, argmax decoding."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(LabelSmoothingCrossEntropy, *args, axis=axis, **kwargs)

    def activation(self, x):
        return F.softmax(_plain(x), dim=-1)

    def decodes(self, x):
        return _plain(x).argmax(dim=-1)


class FocalLoss(nn.Module):
    """Cross entropy down-weighting easy examples by `(1 - p_true) ** gamma` (Lin et al., 2017)."""

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None, reduction: str = "mean"):
        super().__init__()
        self.gamma, self.weight, self.reduction = gamma, weight, reduction

    def forward(self, inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(inp, targ.long(), weight=self.weight, reduction="none")
        p_true = torch.exp(-F.cross_entropy(inp, targ.long(), reduction="none"))
        loss = (1 - p_true) ** self.gamma * ce
        return loss.mean() if self.reduction == "mean" else loss.sum() if self.reduction == "sum" else loss


class FocalLossFlat(BaseLossFlat):
    """Flattened focal loss; softmax activation, argmax decoding."""

    def __init__(self, *args, gamma: float = 2.0, axis: int = -1, **kwargs):
        super().__init__(FocalLoss, *args, gamma=gamma, axis=axis, **kwargs)

    def activation(self, x):
        return F.softmax(_plain(x), dim=-1)

    def decodes(self, x):
        return _plain(x).argmax(dim=-1)
