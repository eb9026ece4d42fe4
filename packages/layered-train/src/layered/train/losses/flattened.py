"""Losses that flatten their inputs and carry their activation and decoding.

A flattened loss moves the class axis of the predictions last and flattens predictions and
targets to one row per item, so `CrossEntropyLossFlat(axis=1)` takes `(bs, classes, h, w)`
predictions with `(bs, h, w)` masks as readily as `(bs, classes)` with `(bs,)`. Each loss also
knows how to read its predictions: `activation(pred)` gives probabilities and `decodes(probs)`
the predicted targets, which is how `get_preds` and `predict` decode. `reduction` ('mean',
'sum', 'none') can be changed at any time; `get_preds` sets 'none' to get per-item losses.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from layered.core.registry import register_serializable
from layered.train.losses._checks import LossError, check_reduction, plain

__all__ = [
    "BCELossFlat",
    "BCEWithLogitsLossFlat",
    "BaseLossFlat",
    "CrossEntropyLossFlat",
    "FocalLoss",
    "FocalLossFlat",
    "L1LossFlat",
    "LabelSmoothingCrossEntropy",
    "LabelSmoothingCrossEntropyFlat",
    "LossError",
    "MSELossFlat",
]


@register_serializable
class BaseLossFlat:
    """Wrap the loss `loss_cls(*args, **kwargs)`: move `axis` last, flatten, then call it.

    Predictions become `(n_items, n_classes)` (`is_2d`) or a flat vector; targets a flat vector,
    or `(n_items, n_classes)` when they have the predictions' shape (soft or multi-label targets,
    which are moved and flattened alike). `floatify` casts targets to the predictions' float
    type (regression, binary cross entropy); otherwise integer targets become int64 class
    indices. With `flatten=False` tensors reach the loss as they are.
    """

    def __init__(
        self,
        loss_cls: Callable,
        *args,
        axis: int = -1,
        flatten: bool = True,
        floatify: bool = False,
        is_2d: bool = True,
        **kwargs,
    ):
        if "reduction" in kwargs:
            check_reduction(kwargs["reduction"], type(self).__name__)
        self.func = loss_cls(*args, **kwargs)
        self.axis, self.flatten, self.floatify, self.is_2d = axis, flatten, floatify, is_2d

    @property
    def reduction(self) -> str:
        """'mean', 'sum' or 'none' (one loss per flattened item), as the wrapped loss applies it."""
        return self.func.reduction

    @reduction.setter
    def reduction(self, value: str) -> None:
        self.func.reduction = check_reduction(value, type(self).__name__)

    def __call__(self, inp: torch.Tensor, targ: torch.Tensor, **kwargs) -> torch.Tensor:
        inp, targ = plain(inp), plain(targ)
        if self.floatify:
            targ = targ.to(inp.dtype if inp.is_floating_point() else torch.float32)
        elif targ.dtype != torch.long and not targ.is_floating_point():
            targ = targ.long()
        if self.flatten:
            inp, targ = self._flat(inp, targ)
        return self.func(inp, targ, **kwargs)

    def _flat(self, inp: torch.Tensor, targ: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if (
            inp.ndim == 2
            and targ.ndim == 1
            and self.is_2d
            and self.axis in (-1, 1)
            and inp.shape[0] == targ.shape[0]
        ):
            return inp, targ  # already (items, classes) and (items,): the common case costs nothing
        shapes = tuple(inp.shape), tuple(targ.shape)
        per_class = targ.shape == inp.shape
        if inp.ndim > 1:
            inp = inp.movedim(self.axis, -1)
            if per_class:
                targ = targ.movedim(self.axis, -1)
        inp = inp.reshape(-1, inp.shape[-1]) if self.is_2d else inp.reshape(-1)
        targ = targ.reshape(-1, targ.shape[-1]) if self.is_2d and per_class else targ.reshape(-1)
        if len(inp) != len(targ):
            raise LossError(
                f"{type(self).__name__}: predictions of shape {shapes[0]} (classes on axis {self.axis}) "
                f"flatten to {len(inp)} items but targets of shape {shapes[1]} to {len(targ)}"
            )
        return inp, targ

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """Raw predictions as the loss reads them (identity here, as for regression)."""
        return x

    def decodes(self, x: torch.Tensor) -> torch.Tensor:
        """Activated predictions as targets (identity here, as for regression)."""
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}(axis={self.axis}, reduction={self.reduction!r}) of {self.func!r}"


@register_serializable
class _SoftmaxLossFlat(BaseLossFlat):
    """A flattened loss over class scores: softmax activation, argmax decoding, both on `axis`."""

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities: the softmax over `axis`."""
        return F.softmax(plain(x), dim=self.axis)

    def decodes(self, x: torch.Tensor) -> torch.Tensor:
        """The predicted class: the argmax over `axis`."""
        return plain(x).argmax(dim=self.axis)


@register_serializable
class CrossEntropyLossFlat(_SoftmaxLossFlat):
    """Cross entropy over class scores on `axis`; softmax activation, argmax decoding."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(nn.CrossEntropyLoss, *args, axis=axis, **kwargs)


@register_serializable
class BCEWithLogitsLossFlat(BaseLossFlat):
    """Binary cross entropy on logits (binary or multi-label); sigmoid activation, `> thresh` decoding.

    With `pos_weight` (one weight per label), predictions and targets keep their label axis
    (moved last) so that the weights line up with it.
    """

    def __init__(
        self, *args, axis: int = -1, thresh: float = 0.5, pos_weight: torch.Tensor | None = None, **kwargs
    ):
        super().__init__(
            nn.BCEWithLogitsLoss,
            *args,
            axis=axis,
            floatify=True,
            is_2d=pos_weight is not None,
            pos_weight=pos_weight,
            **kwargs,
        )
        self.thresh = thresh

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """Per-label probabilities: the sigmoid."""
        return torch.sigmoid(plain(x))

    def decodes(self, x: torch.Tensor) -> torch.Tensor:
        """The labels predicted present: probability above `thresh`."""
        return plain(x) > self.thresh


@register_serializable
class BCELossFlat(BaseLossFlat):
    """Binary cross entropy on probabilities (a model ending in a sigmoid); `> thresh` decoding.

    Predictions must already be in [0, 1] (torch refuses others); for raw scores use
    `BCEWithLogitsLossFlat`, which is numerically safer. With `weight` (one per label), predictions
    and targets keep their label axis (moved last) so that the weights line up with it.
    """

    def __init__(
        self, *args, axis: int = -1, thresh: float = 0.5, weight: torch.Tensor | None = None, **kwargs
    ):
        super().__init__(
            nn.BCELoss, *args, axis=axis, floatify=True, is_2d=weight is not None, weight=weight, **kwargs
        )
        self.thresh = thresh

    def decodes(self, x: torch.Tensor) -> torch.Tensor:
        """The labels predicted present: probability above `thresh`."""
        return plain(x) > self.thresh


@register_serializable
class MSELossFlat(BaseLossFlat):
    """Mean squared error on flattened predictions and (float) targets."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(nn.MSELoss, *args, axis=axis, floatify=True, is_2d=False, **kwargs)


@register_serializable
class L1LossFlat(BaseLossFlat):
    """Mean absolute error on flattened predictions and (float) targets."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(nn.L1Loss, *args, axis=axis, floatify=True, is_2d=False, **kwargs)


@register_serializable
class LabelSmoothingCrossEntropy(nn.Module):
    """Cross entropy against smoothed targets: `1 - eps + eps/C` on the true class, `eps/C` elsewhere.

    Per item: `(1 - eps) * -log p_true + eps * mean_c(-log p_c)`, classes on dim 1 as in torch.
    It discourages over-confident logits; `eps=0` is the plain cross entropy.
    """

    def __init__(self, eps: float = 0.1, weight: torch.Tensor | None = None, reduction: str = "mean"):
        super().__init__()
        if not 0 <= eps <= 1:
            raise LossError(f"LabelSmoothingCrossEntropy: eps must be in [0, 1], got {eps}")
        self.eps, self.reduction = eps, check_reduction(reduction, "LabelSmoothingCrossEntropy")
        self.register_buffer("weight", weight)

    def forward(self, inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
        """The smoothed cross entropy of class scores `inp` against class indices `targ`."""
        # torch's label_smoothing mixes the one-hot target with the uniform distribution by eps,
        # which is exactly this loss
        return F.cross_entropy(
            inp, targ.long(), weight=self.weight, reduction=self.reduction, label_smoothing=self.eps
        )


@register_serializable
class LabelSmoothingCrossEntropyFlat(_SoftmaxLossFlat):
    """Flattened label-smoothing cross entropy; softmax activation, argmax decoding."""

    def __init__(self, *args, axis: int = -1, **kwargs):
        super().__init__(LabelSmoothingCrossEntropy, *args, axis=axis, **kwargs)


@register_serializable
class FocalLoss(nn.Module):
    """Cross entropy scaled per item by `(1 - p_true) ** gamma`, so easy examples count less.

    Per item: `-weight[y] * (1 - p_y) ** gamma * log p_y` (Lin et al., 2017), classes on dim 1
    as in torch; 'mean' divides by the summed weights, as torch's cross entropy does.
    """

    def __init__(self, gamma: float = 2.0, weight: torch.Tensor | None = None, reduction: str = "mean"):
        super().__init__()
        if gamma < 0:
            raise LossError(f"FocalLoss: gamma must be >= 0, got {gamma}")
        self.gamma, self.reduction = gamma, check_reduction(reduction, "FocalLoss")
        self.register_buffer("weight", weight)

    def forward(self, inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
        """The focal loss of class scores `inp` against class indices `targ`."""
        log_p = F.log_softmax(inp, dim=1 if inp.ndim > 1 else 0)
        modulated = (1 - log_p.exp()) ** self.gamma * log_p
        return F.nll_loss(modulated, targ.long(), weight=self.weight, reduction=self.reduction)


@register_serializable
class FocalLossFlat(_SoftmaxLossFlat):
    """Flattened focal loss; softmax activation, argmax decoding."""

    def __init__(self, *args, gamma: float = 2.0, axis: int = -1, **kwargs):
        super().__init__(FocalLoss, *args, gamma=gamma, axis=axis, **kwargs)
