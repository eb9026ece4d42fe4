"""The Metric API: `reset`, `accumulate(learn)` after each batch, `value` at the end.

`AvgMetric` averages a per-batch function weighted by batch size (exact for accuracy-like
metrics); `AccumMetric` keeps every prediction and target and computes its function once on
the whole set (needed for AUC, F1, Dice, RMSE, R², ...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import torch

from layered.core.device import to_detach
from layered.train.errors import TrainError

__all__ = [
    "AccumMetric",
    "AvgLoss",
    "AvgMetric",
    "AvgSmoothLoss",
    "Metric",
    "ValueMetric",
    "mk_metric",
    "skm_to_layered",
]


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _bs(learn) -> int:
    t = learn.yb[0] if len(learn.yb) else learn.xb[0]
    return t.shape[0] if t.ndim else 1


class Metric:
    """Base class: subclasses implement `reset`, `accumulate(learn)` and the `value` property."""

    def reset(self) -> None:
        """Forget what was accumulated."""

    def accumulate(self, learn) -> None:
        """Take in the current batch (`learn.pred`, `learn.yb`, `learn.loss`)."""

    @property
    def value(self):
        """The metric over everything accumulated since `reset`."""
        raise NotImplementedError(f"{type(self).__name__} must define value")

    @property
    def name(self) -> str:
        """Column name in the results table."""
        return _snake(type(self).__name__)


class AvgMetric(Metric):
    """The mean over the set of `func(pred, *targets)` computed per batch, weighted by batch size."""

    def __init__(self, func: Callable):
        self.func = func
        self.reset()

    def reset(self):
        self.total, self.count = 0.0, 0

    def accumulate(self, learn):
        bs = _bs(learn)
        self.total += float(to_detach(self.func(learn.pred, *learn.yb))) * bs
        self.count += bs

    @property
    def value(self):
        return self.total / self.count if self.count else None

    @property
    def name(self) -> str:
        return getattr(self.func, "func", self.func).__name__


class AvgLoss(AvgMetric):
    """The mean of the batch losses, weighted by batch size."""

    def __init__(self):
        super().__init__(None)

    def accumulate(self, learn):
        bs = _bs(learn)
        self.total += float(learn.loss.mean()) * bs
        self.count += bs

    @property
    def name(self) -> str:
        return "loss"


class AvgSmoothLoss(Metric):
    """An exponential moving average of the batch losses, debiased (what the progress bar shows)."""

    def __init__(self, beta: float = 0.98):
        self.beta = beta
        self.reset()

    def reset(self):
        self.count, self.avg = 0, 0.0

    def accumulate(self, learn):
        self.count += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * float(learn.loss.mean())

    @property
    def value(self):
        return self.avg / (1 - self.beta**self.count) if self.count else math.nan

    @property
    def name(self) -> str:
        return "smooth_loss"


class ValueMetric(Metric):
    """A metric whose value is `func()`, read at the end (e.g. from another callback's state)."""

    def __init__(self, func: Callable, metric_name: str | None = None):
        self.func, self.metric_name = func, metric_name

    @property
    def value(self):
        return self.func()

    @property
    def name(self) -> str:
        return self.metric_name or self.func.__name__


class AccumMetric(Metric):
    """Gather every prediction and target, then compute `func(preds, targets)` once on the whole set.

    `activation` ('no', 'softmax', 'sigmoid', 'argmax') is applied to predictions first;
    `dim_argmax` takes the argmax over that dimension; `thresh` turns probabilities into 0/1;
    `flatten` flattens both; `to_np` hands NumPy arrays to `func`; `invert_arg` swaps the
    arguments (scikit-learn's metrics take `(y_true, y_pred)`).
    """

    def __init__(
        self,
        func: Callable,
        dim_argmax: int | None = None,
        activation: str = "no",
        thresh: float | None = None,
        to_np: bool = False,
        invert_arg: bool = False,
        flatten: bool = True,
        name: str | None = None,
        **kwargs,
    ):
        if activation not in ("no", "softmax", "sigmoid", "argmax"):
            raise TrainError(
                f"AccumMetric: activation must be no, softmax, sigmoid or argmax, got {activation!r}"
            )
        self.func, self.dim_argmax, self.activation, self.thresh = func, dim_argmax, activation, thresh
        self.to_np, self.invert_arg, self.flatten, self.kwargs = to_np, invert_arg, flatten, kwargs
        self._name = name
        self.reset()

    def reset(self):
        self.preds, self.targs = [], []

    def accumulate(self, learn):
        pred = learn.pred.detach()
        if self.activation in ("softmax", "argmax"):
            pred = torch.softmax(pred.float(), dim=self.dim_argmax if self.dim_argmax is not None else -1)
        elif self.activation == "sigmoid":
            pred = torch.sigmoid(pred.float())
        if self.dim_argmax is not None:
            pred = pred.argmax(dim=self.dim_argmax)
        if self.thresh is not None:
            pred = (pred >= self.thresh).long()
        targ = learn.yb[0].detach()
        self.accum_values(pred, targ)

    def accum_values(self, preds: torch.Tensor, targs: torch.Tensor) -> None:
        """Store a batch of (already activated) predictions and targets."""
        preds, targs = to_detach(preds), to_detach(targs)
        if self.flatten:
            preds, targs = preds.reshape(-1), targs.reshape(-1)
        self.preds.append(preds.as_subclass(torch.Tensor))
        self.targs.append(targs.as_subclass(torch.Tensor))

    @property
    def value(self):
        if not self.preds:
            return None
        preds, targs = torch.cat(self.preds), torch.cat(self.targs)
        if self.to_np:
            preds, targs = preds.numpy(), targs.numpy()
        args = (targs, preds) if self.invert_arg else (preds, targs)
        out = self.func(*args, **self.kwargs)
        return out.item() if isinstance(out, torch.Tensor) and out.numel() == 1 else out

    @property
    def name(self) -> str:
        return self._name or getattr(self.func, "__name__", _snake(type(self).__name__))


def skm_to_layered(
    func: Callable,
    is_class: bool = True,
    thresh: float | None = None,
    axis: int = -1,
    activation: str | None = None,
    **kwargs,
) -> AccumMetric:
    """Wrap a scikit-learn metric `func(y_true, y_pred, **kwargs)` as an exact whole-set metric.

    For classification (`is_class`), predictions are the argmax over `axis`, or `>= thresh` when
    `thresh` is given (after a sigmoid by default).
    """
    if activation is None:
        activation = ("sigmoid" if thresh is not None else "argmax") if is_class else "no"
    dim_argmax = axis if is_class and thresh is None else None
    return AccumMetric(
        func,
        dim_argmax=dim_argmax,
        activation=activation,
        thresh=thresh,
        to_np=True,
        invert_arg=True,
        name=func.__name__,
        **kwargs,
    )


def mk_metric(m) -> Metric:
    """A Metric from `m`: instances stay, Metric classes are instantiated, functions become AvgMetrics."""
    if isinstance(m, Metric):
        return m
    if isinstance(m, type) and issubclass(m, Metric):
        return m()
    if callable(m):
        return AvgMetric(m)
    raise TrainError(f"metric {m!r} is neither a Metric nor a function of (pred, target)")
