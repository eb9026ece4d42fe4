"""Metrics accumulated over uneven batches equal the same metric computed once on the whole set."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import sklearn.metrics as skm
import torch

from layered.train.metric import AccumMetric, AvgMetric, AvgSmoothLoss, mk_metric
from layered.train.metrics_classification import (
    BalancedAccuracy,
    CohenKappa,
    F1Score,
    MatthewsCorrCoef,
    Precision,
    Recall,
    RocAuc,
    RocAucBinary,
    accuracy,
    accuracy_multi,
    error_rate,
    top_k_accuracy,
)
from layered.train.metrics_regression import PearsonCorrCoef, R2Score, SpearmanCorrCoef, mae, mse, msle, rmse
from layered.train.metrics_segmentation import Dice, DiceMulti, JaccardCoeff
from layered.train.metrics_text import Perplexity

G = torch.Generator().manual_seed(0)
SIZES = (7, 30, 1, 12)  # uneven on purpose


def run(metric, preds, targs, losses=None):
    metric = mk_metric(metric)
    metric.reset()
    start = 0
    for n in SIZES:
        sl = slice(start, start + n)
        loss = losses[sl].mean() if losses is not None else torch.tensor(0.0)
        metric.accumulate(SimpleNamespace(pred=preds[sl], yb=(targs[sl],), xb=(preds[sl],), loss=loss))
        start += n
    return metric.value


N = sum(SIZES)
LOGITS = torch.randn(N, 3, generator=G)
LABELS = torch.randint(0, 3, (N,), generator=G)
BINARY_LOGITS = torch.randn(N, 2, generator=G)
BINARY = torch.randint(0, 2, (N,), generator=G)


def test_classification_metrics_match_sklearn_on_the_whole_set():
    pred = LOGITS.argmax(1).numpy()
    assert run(accuracy, LOGITS, LABELS) == pytest.approx(skm.accuracy_score(LABELS, pred))
    assert run(error_rate, LOGITS, LABELS) == pytest.approx(1 - skm.accuracy_score(LABELS, pred))
    assert run(F1Score(average="macro"), LOGITS, LABELS) == pytest.approx(
        skm.f1_score(LABELS, pred, average="macro")
    )
    assert run(Precision(average="micro"), LOGITS, LABELS) == pytest.approx(
        skm.precision_score(LABELS, pred, average="micro")
    )
    assert run(Recall(average="macro"), LOGITS, LABELS) == pytest.approx(
        skm.recall_score(LABELS, pred, average="macro")
    )
    assert run(MatthewsCorrCoef(), LOGITS, LABELS) == pytest.approx(skm.matthews_corrcoef(LABELS, pred))
    assert run(CohenKappa(), LOGITS, LABELS) == pytest.approx(skm.cohen_kappa_score(LABELS, pred))
    assert run(BalancedAccuracy(), LOGITS, LABELS) == pytest.approx(skm.balanced_accuracy_score(LABELS, pred))
    probs = torch.softmax(LOGITS, 1).numpy()
    assert run(RocAuc(), LOGITS, LABELS) == pytest.approx(skm.roc_auc_score(LABELS, probs, multi_class="ovr"))
    p1 = torch.softmax(BINARY_LOGITS, 1)[:, 1].numpy()
    assert run(RocAucBinary(), BINARY_LOGITS, BINARY) == pytest.approx(skm.roc_auc_score(BINARY, p1))
    top2 = np.mean([int(LABELS[i]) in LOGITS[i].topk(2).indices.tolist() for i in range(N)])
    assert run(lambda p, t: top_k_accuracy(p, t, k=2), LOGITS, LABELS) == pytest.approx(top2)


def test_multilabel_accuracy():
    logits, targs = torch.randn(N, 4, generator=G), torch.randint(0, 2, (N, 4), generator=G)
    expected = ((torch.sigmoid(logits) > 0.5) == targs.bool()).float().mean().item()
    assert run(accuracy_multi, logits, targs) == pytest.approx(expected)


def test_regression_metrics_are_exact():
    preds, targs = torch.rand(N, generator=G) * 3, torch.rand(N, generator=G) * 3
    p, t = preds.numpy(), targs.numpy()
    assert run(mse, preds, targs) == pytest.approx(skm.mean_squared_error(t, p), rel=1e-5)
    assert run(mae, preds, targs) == pytest.approx(skm.mean_absolute_error(t, p), rel=1e-5)
    assert run(msle, preds, targs) == pytest.approx(skm.mean_squared_log_error(t, p), rel=1e-5)
    assert run(rmse, preds, targs) == pytest.approx(math.sqrt(skm.mean_squared_error(t, p)), rel=1e-5)
    assert run(R2Score(), preds, targs) == pytest.approx(skm.r2_score(t, p), rel=1e-5)
    assert run(PearsonCorrCoef(), preds, targs) == pytest.approx(np.corrcoef(p, t)[0, 1], rel=1e-6)
    tied = torch.tensor([1.0, 2.0, 2.0, 3.0] * 12 + [5.0, 6.0])
    other = torch.arange(50.0).flip(0)
    rank = lambda a: np.array([np.mean(np.flatnonzero(np.sort(a) == v)) for v in a])
    expected = np.corrcoef(rank(tied.numpy()), rank(other.numpy()))[0, 1]
    assert run(SpearmanCorrCoef(), tied, other) == pytest.approx(expected, rel=1e-6)


def test_segmentation_metrics_use_whole_set_counts():
    logits = torch.randn(N, 3, 4, 4, generator=G)
    masks = torch.randint(0, 3, (N, 4, 4), generator=G)
    pred = logits.argmax(1)
    dice = []
    for c in range(3):
        p, t = pred == c, masks == c
        dice.append(2 * (p & t).sum().item() / (p.sum() + t.sum()).item())
    assert run(DiceMulti(), logits, masks) == pytest.approx(np.mean(dice))
    binary = (masks > 1).long()
    two = torch.randn(N, 2, 4, 4, generator=G)
    p = two.argmax(1)
    inter, total = (p * binary).sum().item(), (p + binary).sum().item()
    assert run(Dice(), two, binary) == pytest.approx(2 * inter / total)
    assert run(JaccardCoeff(), two, binary) == pytest.approx(inter / (total - inter))


def test_perplexity_and_smoothed_loss():
    losses = torch.rand(N, generator=G) + 1
    expected = math.exp(
        sum(losses[sum(SIZES[:i]) : sum(SIZES[: i + 1])].mean().item() * n for i, n in enumerate(SIZES)) / N
    )
    assert run(Perplexity(), LOGITS, LABELS, losses) == pytest.approx(expected)
    smooth = AvgSmoothLoss(beta=0.5)
    for v in (1.0, 3.0):
        smooth.accumulate(SimpleNamespace(loss=torch.tensor(v)))
    assert smooth.value == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / (1 - 0.25))


def test_mk_metric_and_names():
    assert isinstance(mk_metric(accuracy), AvgMetric) and mk_metric(accuracy).name == "accuracy"
    assert isinstance(mk_metric(Dice), Dice) and mk_metric(Dice).name == "dice"
    assert F1Score().name == "f1_score" and isinstance(R2Score(), AccumMetric)
