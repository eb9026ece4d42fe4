"""Regression metrics, exact over the whole validation set."""

from __future__ import annotations

import torch

from layered.train.metric import AccumMetric

__all__ = ["PearsonCorrCoef", "R2Score", "SpearmanCorrCoef", "exp_rmspe", "mae", "mse", "msle", "rmse"]


def _flat(inp: torch.Tensor, targ: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return inp.as_subclass(torch.Tensor).reshape(-1).float(), targ.as_subclass(torch.Tensor).reshape(
        -1
    ).float()


def mse(inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
    """Mean squared error (exact as a size-weighted average of batches)."""
    inp, targ = _flat(inp, targ)
    return ((inp - targ) ** 2).mean()


def mae(inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
    """Mean absolute error."""
    inp, targ = _flat(inp, targ)
    return (inp - targ).abs().mean()


def msle(inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
    """Mean squared logarithmic error: mse of log(1 + x)."""
    inp, targ = _flat(inp, targ)
    return ((torch.log1p(inp) - torch.log1p(targ)) ** 2).mean()


def _rmse(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(mse(preds, targs))


_rmse.__name__ = "rmse"
rmse = AccumMetric(_rmse)
"""Root of the mean squared error over the whole set (not a mean of per-batch roots)."""


def _exp_rmspe(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    preds, targs = torch.exp(preds), torch.exp(targs)
    return torch.sqrt((((targs - preds) / targs) ** 2).mean())


_exp_rmspe.__name__ = "exp_rmspe"
exp_rmspe = AccumMetric(_exp_rmspe)
"""Root mean squared percentage error of exp(prediction) against exp(target) (log-scale targets)."""


def _r2(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    residual = ((targs - preds) ** 2).sum()
    total = ((targs - targs.mean()) ** 2).sum()
    return 1 - residual / total


def R2Score() -> AccumMetric:
    """Coefficient of determination R² over the whole set."""
    return AccumMetric(_r2, name="r2_score")


def _pearson(preds: torch.Tensor, targs: torch.Tensor) -> torch.Tensor:
    p, t = preds.double() - preds.double().mean(), targs.double() - targs.double().mean()
    return (p * t).sum() / torch.sqrt((p**2).sum() * (t**2).sum())


def _ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks from 1, ties sharing their average rank."""
    _, inverse, counts = torch.unique(x, return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, 0).double()
    average = ends - (counts.double() - 1) / 2
    return average[inverse]


def PearsonCorrCoef() -> AccumMetric:
    """Pearson correlation between predictions and targets over the whole set."""
    return AccumMetric(_pearson, name="pearson_corr_coef")


def SpearmanCorrCoef() -> AccumMetric:
    """Spearman rank correlation (Pearson on ranks, ties averaged) over the whole set."""
    return AccumMetric(lambda p, t: _pearson(_ranks(p), _ranks(t)), name="spearman_corr_coef")
