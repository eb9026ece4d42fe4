"""Regression metrics over uneven batches equal the same metric computed once on the whole set."""

import math

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_feed import feed as feed_batches

from layered.train.metrics.metric import AccumMetric, MetricError
from layered.train.metrics.regression import (
    ExplainedVariance,
    PearsonCorrCoef,
    R2Score,
    SpearmanCorrCoef,
    exp_rmspe,
    mae,
    mse,
    msle,
    rmse,
)

G = torch.Generator().manual_seed(0)
SIZES = (7, 30, 1, 12)  # uneven, so averaging per-batch values would be wrong
N = sum(SIZES)
PREDS = torch.rand(N, generator=G) * 3
TARGS = PREDS + torch.randn(N, generator=G)  # correlated with the predictions
TARGS = TARGS.clamp(min=0.05)


def feed(metric, preds, targs):
    """One validation pass over this module's uneven batches."""
    return feed_batches(metric, preds, targs, SIZES)


def per_batch_mean(func, preds, targs):
    starts = np.cumsum((0, *SIZES[:-1]))
    return np.mean([func(preds[s : s + n], targs[s : s + n]) for s, n in zip(starts, SIZES)])


def test_mean_metrics_are_exact_as_weighted_averages():
    p, t = PREDS.numpy(), TARGS.numpy()
    assert feed(mse, PREDS, TARGS) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-6)
    assert feed(mae, PREDS, TARGS) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-6)
    assert feed(msle, PREDS, TARGS) == pytest.approx(skm.mean_squared_log_error(t, p), rel=1e-6)
    # a model with one output per item: (bs, 1) predictions against (bs,) targets
    assert feed(mse, PREDS[:, None], TARGS) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-6)


def test_rmse_is_the_root_of_the_whole_set_mse():
    p, t = PREDS.numpy(), TARGS.numpy()
    expected = math.sqrt(skm.mean_squared_error(t, p))
    assert isinstance(rmse, AccumMetric) and rmse.name == "rmse"
    assert feed(rmse, PREDS, TARGS) == pytest.approx(expected, rel=1e-6)
    root_of_batch = per_batch_mean(lambda a, b: math.sqrt(skm.mean_squared_error(b, a)), p, t)
    assert root_of_batch != pytest.approx(expected, rel=1e-3)
    assert feed(rmse, PREDS[:10], TARGS[:10] + 1) != pytest.approx(expected)  # reset between passes


def test_exp_rmspe():
    log_p, log_t = PREDS.log1p(), TARGS.log1p()
    ep, et = log_p.double().exp(), log_t.double().exp()
    expected = math.sqrt((((et - ep) / et) ** 2).mean().item())
    assert feed(exp_rmspe, log_p, log_t) == pytest.approx(expected, rel=1e-6)
    assert exp_rmspe.name == "exp_rmspe"


def test_r2_and_pearson_on_the_whole_set():
    p, t = PREDS.numpy(), TARGS.numpy()
    assert feed(R2Score(), PREDS, TARGS) == pytest.approx(skm.r2_score(t, p), rel=1e-6)
    multi_p, multi_t = PREDS.reshape(-1, 2), TARGS.reshape(-1, 2)  # several outputs: flattened
    assert feed(R2Score(), multi_p, multi_t) == pytest.approx(skm.r2_score(t, p), rel=1e-6)
    assert feed(PearsonCorrCoef(), PREDS, TARGS) == pytest.approx(np.corrcoef(p, t)[0, 1], rel=1e-6)
    assert R2Score().name == "r2_score" and PearsonCorrCoef().name == "pearson_corr_coef"


def average_ranks(values):
    """Ranks from 1, tied values sharing the mean of the positions they occupy once sorted."""
    order = np.sort(values)
    return np.array([np.flatnonzero(order == v).mean() + 1 for v in values])


def test_spearman_averages_the_ranks_of_ties():
    tied = torch.tensor([1.0, 2.0, 2.0, 3.0, 0.5] * 10)
    other = torch.randn(N, generator=G)
    expected = np.corrcoef(average_ranks(tied.numpy()), average_ranks(other.numpy()))[0, 1]
    assert feed(SpearmanCorrCoef(), tied, other) == pytest.approx(expected, rel=1e-9)
    monotone = torch.exp(PREDS)  # a monotone transform keeps every rank
    assert feed(SpearmanCorrCoef(), monotone, PREDS) == pytest.approx(1.0)
    assert feed(SpearmanCorrCoef(), -PREDS, PREDS) == pytest.approx(-1.0)
    assert SpearmanCorrCoef().name == "spearman_corr_coef"


def test_mismatched_sizes_are_refused():
    with pytest.raises(MetricError, match=r"mse: 6 predictions \(shape \(3, 2\)\) for 3 targets"):
        mse(torch.zeros(3, 2), torch.zeros(3))


def test_explained_variance_on_the_whole_set_ignores_an_offset():
    p, t = PREDS.numpy(), TARGS.numpy()
    expected = skm.explained_variance_score(t, p)
    assert feed(ExplainedVariance(), PREDS, TARGS) == pytest.approx(expected, rel=1e-6)
    assert per_batch_mean(lambda a, b: skm.explained_variance_score(b, a), p, t) != pytest.approx(
        expected, rel=1e-3
    )
    shifted = feed(ExplainedVariance(), PREDS + 5, TARGS)  # an offset costs R² but not the explained variance
    assert shifted == pytest.approx(expected, rel=1e-6)
    assert feed(R2Score(), PREDS + 5, TARGS) < expected - 1
    assert ExplainedVariance().name == "explained_variance"
