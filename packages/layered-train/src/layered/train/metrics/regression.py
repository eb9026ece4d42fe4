"""Regression metrics, exact over the whole validation set.

`mse`, `mae` and `msle` are means over items, so averaging them over batches (weighted by batch
size) is exact. `rmse`, `exp_rmspe`, R², the explained variance and the correlations are not: they are `AccumMetric`s
computed once on every prediction and target. Sums run in float64 so long sets stay accurate.
"""

from __future__ import annotations

import torch

from layered.train.metrics.metric import AccumMetric, flatten_check

__all__ = [
    "ExplainedVariance",
    "PearsonCorrCoef",
    "R2Score",
    "SpearmanCorrCoef",
    "exp_rmspe",
    "mae",
    "mse",
    "msle",
    "rmse",
]


def _pair(inp: torch.Tensor, targ: torch.Tensor, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    inp, targ = flatten_check(inp, targ, metric)
    return inp.double(), targ.double()


def mse(inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    inp, targ = _pair(inp, targ, "mse")
    return (inp - targ).square().mean()


def mae(inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
    """Mean absolute error."""
    inp, targ = _pair(inp, targ, "mae")
    return (inp - targ).abs().mean()


def msle(inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
    """Mean squared logarithmic error: the mse of `log(1 + x)`."""
    inp, targ = _pair(inp, targ, "msle")
    return (torch.log1p(inp) - torch.log1p(targ)).square().mean()


def _rmse(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    return mse(preds, targs).sqrt()


def _exp_rmspe(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    preds, targs = _pair(preds, targs, "exp_rmspe")
    preds, targs = preds.exp(), targs.exp()
    return ((targs - preds) / targs).square().mean().sqrt()


rmse = AccumMetric(_rmse, name="rmse")
"""Root mean squared error over the whole set (the root of the set's mse, not a mean of roots)."""

exp_rmspe = AccumMetric(_exp_rmspe, name="exp_rmspe")
"""Root mean squared percentage error of `exp(pred)` against `exp(target)` (log-scale targets)."""


def _r2(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    preds, targs = _pair(preds, targs, "r2_score")
    residual = (targs - preds).square().sum()
    total = (targs - targs.mean()).square().sum()
    return 1 - residual / total


def _explained_variance(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    preds, targs = _pair(preds, targs, "explained_variance")
    residual = targs - preds
    return 1 - residual.var(correction=0) / targs.var(correction=0)


def _pearson(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    preds, targs = _pair(preds, targs, "pearson_corr_coef")
    p, t = preds - preds.mean(), targs - targs.mean()
    return (p * t).sum() / (p.square().sum() * t.square().sum()).sqrt()


def _ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks from 1; tied values share the average of the ranks they span."""
    _, inverse, counts = torch.unique(x, return_inverse=True, return_counts=True)
    last = torch.cumsum(counts, 0).double()  # rank of the last copy of each distinct value
    return (last - (counts.double() - 1) / 2)[inverse]


def _spearman(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    preds, targs = flatten_check(preds, targs, "spearman_corr_coef")
    return _pearson(_ranks(preds), _ranks(targs))


def R2Score() -> AccumMetric:
    """Coefficient of determination R² = 1 - SS_res / SS_tot over the whole set."""
    return AccumMetric(_r2, name="r2_score")


def ExplainedVariance() -> AccumMetric:
    """Explained variance 1 - Var(target - pred) / Var(target) over the whole set.

    Unlike R², a constant offset in the predictions costs nothing: it measures how much of the
    targets' spread the predictions follow.
    """
    return AccumMetric(_explained_variance, name="explained_variance")


def PearsonCorrCoef() -> AccumMetric:
    """Pearson correlation between predictions and targets over the whole set."""
    return AccumMetric(_pearson, name="pearson_corr_coef")


def SpearmanCorrCoef() -> AccumMetric:
    """Spearman rank correlation (Pearson on ranks, ties given their average rank) over the whole set."""
    return AccumMetric(_spearman, name="spearman_corr_coef")
