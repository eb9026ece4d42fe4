"""The Metric API: `reset()` before a pass, `accumulate(learn)` after each batch, `value` at the end.

Two ways to turn a function into a metric, chosen by whether batch values can be combined:

- `AvgMetric(func)` averages `func(pred, target)` over batches, weighted by batch size. That is
  exact for metrics that are themselves means over items (accuracy, MSE, MAE).
- `AccumMetric(func)` keeps every (detached, CPU) prediction and target and calls `func` once on
  the whole set. Metrics that are not means over items (AUC, F1, RMSE, R², correlations) need it:
  averaging their per-batch values would give a different, batch-size dependent number.

A Learner turns whatever it is given as a metric into a `Metric` with `mk_metric`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from layered.core.device import to_detach
from layered.train.errors import TrainError

__all__ = [
    "AccumMetric",
    "AvgLoss",
    "AvgMetric",
    "AvgSmoothLoss",
    "Metric",
    "MetricError",
    "ValueMetric",
    "batch_floats",
    "flatten_check",
    "mk_metric",
    "skm_to_layered",
]

_ACTIVATIONS = ("no", "softmax", "sigmoid", "argmax")


class MetricError(TrainError, TypeError, ValueError):
    """A metric built from, or fed with, something of the wrong kind, shape or value."""


def _snake(name: str) -> str:
    # split before an upper-case letter that follows a lower-case letter or digit ("RocAuc"), and
    # before the last capital of an acronym followed by lower case ("AUCScore" -> "auc_score")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _func_name(func: Callable) -> str:
    while isinstance(func, functools.partial):
        func = func.func
    return _snake(getattr(func, "__name__", None) or type(func).__name__)


def _batch_size(learn) -> int:
    items = learn.yb[0] if len(learn.yb) else learn.xb[0]
    return items.shape[0] if items.ndim else 1


def _scalar(value: Any) -> Any:
    """A one-element tensor or NumPy value as a Python number; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.size == 1):
        return value.item()
    return value


def flatten_check(
    pred: torch.Tensor, targ: torch.Tensor, metric: str = "metric"
) -> tuple[torch.Tensor, torch.Tensor]:
    """`pred` and `targ` as flat plain tensors, after checking they hold one prediction per target."""
    pred, targ = pred.as_subclass(torch.Tensor), targ.as_subclass(torch.Tensor)
    if pred.numel() != targ.numel():
        raise MetricError(
            f"{metric}: {pred.numel()} predictions (shape {tuple(pred.shape)}) for {targ.numel()} "
            f"targets (shape {tuple(targ.shape)}); expected one prediction per target"
        )
    return pred.reshape(-1), targ.reshape(-1)


class Metric:
    """Base of all metrics: `reset`, `accumulate(learn)`, and the `value` and `name` properties."""

    # reset and accumulate do nothing by default: a metric read from elsewhere (ValueMetric)
    # has nothing to collect, and every other metric overrides both
    def reset(self) -> None:
        """Forget everything accumulated, before a new pass over a dataset."""

    def accumulate(self, learn) -> None:
        """Take in the current batch from `learn` (`pred`, `yb`, `xb`, `loss`)."""

    @property
    def value(self) -> Any:
        """The metric over everything accumulated since `reset` (None before any batch)."""
        raise NotImplementedError(f"{type(self).__name__} must define the value property")

    @property
    def name(self) -> str:
        """The column name in the results table: the class name in snake_case."""
        return _snake(type(self).__name__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _mean(value: Any) -> float:
    """The mean of a tensor (or a number) as a float; a one-element tensor needs no reduction kernel."""
    if not isinstance(value, torch.Tensor):
        return float(value)
    return float(value) if value.numel() == 1 else float(value.detach().mean())


# batch values held before they are read in one transfer: bounds the memory of a long pass
_MAX_PENDING = 1024


def batch_floats(values: list[torch.Tensor]) -> list[float]:
    """The means of tensors kept during a pass, as floats, read from the device in one transfer."""
    if not values:
        return []
    means = [v if v.ndim == 0 else v.float().mean() for v in values]
    return torch.stack([m.float() for m in means]).tolist()


class _WeightedMean(Metric):
    """Mean over items of a per-batch mean, each batch weighted by its size.

    Tensor batch values are kept on their device and read together when `value` (or `total`) is
    asked for, or every 1,024 batches: accumulating never waits for the device.
    """

    def __init__(self):
        self.reset()

    def batch_value(self, learn) -> Any:
        """The mean over the items of the current batch."""
        raise NotImplementedError(f"{type(self).__name__} must define batch_value")

    def reset(self) -> None:
        self._total, self.count = 0.0, 0
        self._pending: list[torch.Tensor] = []
        self._pending_sizes: list[int] = []

    def accumulate(self, learn) -> None:
        size = _batch_size(learn)
        value = self.batch_value(learn)
        if isinstance(value, torch.Tensor):
            self._pending.append(value.detach())
            self._pending_sizes.append(size)
            if len(self._pending) >= _MAX_PENDING:
                self.flush()
        else:
            self._total += float(value) * size
        self.count += size

    def flush(self) -> None:
        """Read the batch values kept on the device into the running total."""
        for mean, size in zip(batch_floats(self._pending), self._pending_sizes):
            self._total += mean * size
        self._pending, self._pending_sizes = [], []

    @property
    def total(self) -> float:
        """The size-weighted sum of the batch means so far."""
        self.flush()
        return self._total

    @total.setter
    def total(self, value: float) -> None:
        self.flush()
        self._total = float(value)

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


class AvgMetric(_WeightedMean):
    """Average of `func(pred, *targets)` over the batches, weighted by batch size."""

    def __init__(self, func: Callable):
        if not callable(func):
            raise MetricError(f"AvgMetric needs a function of (pred, *targets), got {func!r}")
        self.func = func
        super().__init__()

    def batch_value(self, learn) -> Any:
        return self.func(learn.pred, *learn.yb)

    @property
    def name(self) -> str:
        return _func_name(self.func)


class AvgLoss(_WeightedMean):
    """Average of the batch losses (`learn.loss`), weighted by batch size."""

    def batch_value(self, learn) -> torch.Tensor:
        return learn.loss

    @property
    def name(self) -> str:
        return "loss"


class AvgSmoothLoss(Metric):
    """Exponential moving average of the batch losses, debiased; what the progress bar shows.

    After `t` batches the value is `avg_t / (1 - beta**t)` with `avg_t = beta*avg_{t-1} +
    (1-beta)*loss_t`: the division removes the pull towards the zero the average starts from.
    The Recorder feeds it numbers (`add`) when it reads its losses from the device.
    """

    def __init__(self, beta: float = 0.98):
        if not 0 <= beta < 1:
            raise MetricError(f"AvgSmoothLoss: beta must be in [0, 1), got {beta}")
        self.beta = beta
        self.reset()

    def reset(self) -> None:
        self.count, self.avg = 0, 0.0

    def add(self, loss: float) -> None:
        """Take in one batch loss."""
        self.count += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * loss

    def accumulate(self, learn) -> None:
        self.add(_mean(learn.loss))

    @property
    def value(self) -> float | None:
        return self.avg / (1 - self.beta**self.count) if self.count else None

    @property
    def name(self) -> str:
        return "smooth_loss"


class ValueMetric(Metric):
    """A metric whose value is `func()` at the end of the pass (e.g. state kept by a callback)."""

    def __init__(self, func: Callable[[], Any], name: str | None = None):
        if not callable(func):
            raise MetricError(f"ValueMetric needs a function of no arguments, got {func!r}")
        self.func, self._name = func, name

    @property
    def value(self) -> Any:
        return self.func()

    @property
    def name(self) -> str:
        return self._name or _func_name(self.func)


class AccumMetric(Metric):
    """Keep every prediction and target, then compute `func(preds, targets, **kwargs)` once.

    Predictions are transformed per batch before they are stored: `activation` first ('softmax'
    over `dim_argmax`, or the last dim when it is None; 'sigmoid' elementwise), then the argmax
    over `dim_argmax` (or the last dim) when `activation` is 'argmax', or is 'no' with
    `dim_argmax` set; then `thresh` makes them 0/1 (`>= thresh`). Only the first target is kept.
    `flatten` flattens both (otherwise batches are concatenated along dim 0, so their other
    dims must agree); `to_np` passes NumPy arrays; `invert_arg` passes `(targets, preds)`, the
    order scikit-learn uses.
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
        if not callable(func):
            raise MetricError(f"AccumMetric needs a function of (preds, targets), got {func!r}")
        if activation not in _ACTIVATIONS:
            raise MetricError(f"AccumMetric: activation must be one of {_ACTIVATIONS}, got {activation!r}")
        self.func, self.dim_argmax, self.activation, self.thresh = func, dim_argmax, activation, thresh
        self.to_np, self.invert_arg, self.flatten, self.kwargs = to_np, invert_arg, flatten, kwargs
        self._name = name
        self.reset()

    def reset(self) -> None:
        self.preds: list[torch.Tensor] = []
        self.targs: list[torch.Tensor] = []

    def accumulate(self, learn) -> None:
        if not len(learn.yb):
            raise MetricError(f"{self.name}: AccumMetric needs targets, but the batch has none (learn.yb)")
        self.accum_values(self._activate(learn.pred), learn.yb[0])

    def _activate(self, pred: torch.Tensor) -> torch.Tensor:
        pred = to_detach(pred).as_subclass(torch.Tensor)
        dim = -1 if self.dim_argmax is None else self.dim_argmax
        if self.activation == "softmax":
            pred = torch.softmax(pred.float(), dim=dim)
        elif self.activation == "sigmoid":
            pred = torch.sigmoid(pred.float())
        if self.activation == "argmax" or (self.activation == "no" and self.dim_argmax is not None):
            pred = pred.argmax(dim=dim)
        if self.thresh is not None:
            pred = (pred >= self.thresh).long()
        return pred

    def accum_values(self, preds: torch.Tensor, targs: torch.Tensor) -> None:
        """Store a batch of predictions (already activated) and targets."""
        preds = to_detach(preds).as_subclass(torch.Tensor)
        targs = to_detach(targs).as_subclass(torch.Tensor)
        if self.flatten:
            preds, targs = flatten_check(preds, targs, self.name)
        self.preds.append(preds)
        self.targs.append(targs)

    @property
    def value(self) -> Any:
        if not self.preds:
            return None
        preds, targs = torch.cat(self.preds), torch.cat(self.targs)
        if self.to_np:
            preds, targs = preds.numpy(), targs.numpy()
        args = (targs, preds) if self.invert_arg else (preds, targs)
        return _scalar(self.func(*args, **self.kwargs))

    @property
    def name(self) -> str:
        return self._name or _func_name(self.func)


def skm_to_layered(
    func: Callable,
    is_class: bool = True,
    thresh: float | None = None,
    axis: int = -1,
    activation: str | None = None,
    flatten: bool = True,
    **kwargs,
) -> AccumMetric:
    """Wrap a scikit-learn metric `func(y_true, y_pred, **kwargs)` as an exact whole-set metric.

    For classification (`is_class`) predictions become the argmax over `axis`, or, with
    `thresh`, 0/1 by `sigmoid(pred) >= thresh` (multi-label). `activation` overrides the default
    ('argmax', 'sigmoid' with `thresh`, 'no' for regression). `kwargs` go to `func`.
    """
    if not callable(func):
        raise MetricError(f"skm_to_layered needs a scikit-learn metric function, got {func!r}")
    takes_argmax = is_class and thresh is None
    if activation is None:
        activation = "argmax" if takes_argmax else ("sigmoid" if is_class else "no")
    return AccumMetric(
        func,
        dim_argmax=axis if takes_argmax else None,
        activation=activation,
        thresh=thresh,
        to_np=True,
        invert_arg=True,
        flatten=flatten,
        **kwargs,
    )


def mk_metric(m: Any) -> Metric:
    """A Metric from `m`: an instance stays, a Metric class is instantiated, a function is averaged."""
    if isinstance(m, Metric):
        return m
    if isinstance(m, type):
        if issubclass(m, Metric):
            return m()
        raise MetricError(f"metric class {m.__qualname__} does not derive from Metric")
    if callable(m):
        return AvgMetric(m)
    raise MetricError(
        f"a metric must be a Metric, a Metric class or a function of (pred, *targets), got {m!r}"
    )
