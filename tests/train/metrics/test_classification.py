"""Classification metrics over uneven batches equal scikit-learn's on the whole set."""

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_feed import feed as feed_batches

from layered.data.categorize import TensorCategory
from layered.train.metrics.classification import (
    BalancedAccuracy,
    BrierScore,
    CohenKappa,
    F1Score,
    F1ScoreMulti,
    FBeta,
    MatthewsCorrCoef,
    Precision,
    PrecisionMulti,
    Recall,
    RecallMulti,
    RocAuc,
    RocAucBinary,
    RocAucMulti,
    accuracy,
    accuracy_multi,
    error_rate,
    top_k_accuracy,
)
from layered.train.metrics.metric import AccumMetric, AvgMetric, MetricError, mk_metric

G = torch.Generator().manual_seed(0)
SIZES = (7, 30, 1, 12)  # uneven, so averaging per-batch values would be wrong
N = sum(SIZES)
LOGITS = torch.randn(N, 3, generator=G)
LABELS = torch.randint(0, 3, (N,), generator=G)
PRED = LOGITS.argmax(1).numpy()
BIN_LOGITS = torch.randn(N, 2, generator=G)
BIN_LABELS = torch.randint(0, 2, (N,), generator=G)
BIN_PRED = BIN_LOGITS.argmax(1).numpy()


def feed(metric, preds, targs):
    """One validation pass over this module's uneven batches."""
    return feed_batches(metric, preds, targs, SIZES)


def test_accuracy_and_error_rate():
    expected = skm.accuracy_score(LABELS, PRED)
    assert feed(accuracy, LOGITS, TensorCategory(LABELS)) == pytest.approx(expected)
    assert feed(error_rate, LOGITS, LABELS) == pytest.approx(1 - expected)
    assert accuracy(LOGITS[:4], LABELS[:4].unsqueeze(1)).item() == pytest.approx(
        skm.accuracy_score(LABELS[:4], PRED[:4])
    )  # (bs, 1) targets are flattened, not broadcast against (bs,) predictions
    seq = torch.randn(4, 3, 5, generator=G)  # classes on axis 1, e.g. per-token predictions
    seq_targ = torch.randint(0, 3, (4, 5), generator=G)
    assert accuracy(seq, seq_targ, axis=1).item() == pytest.approx((seq.argmax(1) == seq_targ).float().mean())
    with pytest.raises(MetricError, match=r"accuracy: 6 predictions \(shape \(6,\)\) for 5 targets"):
        accuracy(torch.randn(6, 3), torch.zeros(5, dtype=torch.long))


def test_top_k_accuracy():
    logits, labels = torch.randn(N, 6, generator=G), torch.randint(0, 6, (N,), generator=G)
    top3 = np.mean([int(labels[i]) in logits[i].topk(3).indices.tolist() for i in range(N)])
    assert feed(lambda p, t: top_k_accuracy(p, t, k=3), logits, labels) == pytest.approx(top3)
    assert top_k_accuracy(logits, labels, k=1).item() == pytest.approx(accuracy(logits, labels).item())
    assert top_k_accuracy(logits, labels, k=6).item() == 1.0
    with pytest.raises(MetricError, match="k=7, but predictions have 6 classes"):
        top_k_accuracy(logits, labels, k=7)


def test_accuracy_multi():
    logits, targs = torch.randn(N, 4, generator=G), torch.randint(0, 2, (N, 4), generator=G)
    expected = ((torch.sigmoid(logits) > 0.3) == targs.bool()).float().mean().item()
    assert feed(lambda p, t: accuracy_multi(p, t, thresh=0.3), logits, targs) == pytest.approx(expected)
    probs = torch.sigmoid(logits)
    no_sigmoid = accuracy_multi(probs, targs, thresh=0.3, sigmoid=False).item()
    assert no_sigmoid == pytest.approx(expected)


@pytest.mark.parametrize(
    ("metric", "reference"),
    [
        (F1Score(average="macro"), lambda y, p: skm.f1_score(y, p, average="macro")),
        (FBeta(2.0, average="weighted"), lambda y, p: skm.fbeta_score(y, p, beta=2.0, average="weighted")),
        (Precision(average="micro"), lambda y, p: skm.precision_score(y, p, average="micro")),
        (Recall(average="macro"), lambda y, p: skm.recall_score(y, p, average="macro")),
        (MatthewsCorrCoef(), skm.matthews_corrcoef),
        (CohenKappa(weights="quadratic"), lambda y, p: skm.cohen_kappa_score(y, p, weights="quadratic")),
        (BalancedAccuracy(), skm.balanced_accuracy_score),
    ],
)
def test_multiclass_sklearn_metrics_are_exact_on_the_whole_set(metric, reference):
    assert isinstance(metric, AccumMetric)
    assert feed(metric, LOGITS, LABELS) == pytest.approx(reference(LABELS.numpy(), PRED))


def test_binary_f1_is_not_a_mean_of_batch_scores():
    value = feed(F1Score(), BIN_LOGITS, BIN_LABELS)
    assert value == pytest.approx(skm.f1_score(BIN_LABELS, BIN_PRED))
    starts = np.cumsum((0, *SIZES[:-1]))
    per_batch = [
        skm.f1_score(BIN_LABELS[s : s + n], BIN_PRED[s : s + n], zero_division=0.0)
        for s, n in zip(starts, SIZES)
    ]
    assert np.mean(per_batch) != pytest.approx(value, rel=1e-3)


def test_roc_auc_on_probabilities():
    probs = torch.softmax(LOGITS, 1).numpy()
    assert feed(RocAuc(), LOGITS, LABELS) == pytest.approx(
        skm.roc_auc_score(LABELS, probs, multi_class="ovr")
    )
    assert feed(RocAuc(average="weighted", multi_class="ovo"), LOGITS, LABELS) == pytest.approx(
        skm.roc_auc_score(LABELS, probs, average="weighted", multi_class="ovo")
    )
    p1 = torch.softmax(BIN_LOGITS, 1)[:, 1].numpy()
    assert feed(RocAucBinary(), BIN_LOGITS, BIN_LABELS) == pytest.approx(skm.roc_auc_score(BIN_LABELS, p1))
    one_logit = BIN_LOGITS[:, :1]  # a single output: its sigmoid is the probability of class 1
    expected = skm.roc_auc_score(BIN_LABELS, torch.sigmoid(one_logit).reshape(-1))
    assert feed(RocAucBinary(), one_logit, BIN_LABELS) == pytest.approx(expected)
    assert feed(RocAucBinary(), one_logit.reshape(-1), BIN_LABELS) == pytest.approx(expected)
    assert RocAucBinary().name == "roc_auc_score"
    with pytest.raises(MetricError, match="binary metric needs one or two outputs per item, found 3"):
        feed(RocAucBinary(), LOGITS, LABELS)


def test_brier_score():
    p1 = torch.softmax(BIN_LOGITS, 1)[:, 1].numpy()
    assert feed(BrierScore(), BIN_LOGITS, BIN_LABELS) == pytest.approx(skm.brier_score_loss(BIN_LABELS, p1))
    probs = torch.softmax(LOGITS, 1).numpy()
    assert feed(BrierScore(), LOGITS, LABELS) == pytest.approx(skm.brier_score_loss(LABELS, probs))
    assert BrierScore().name == "brier_score_loss"


def test_multilabel_sklearn_metrics():
    logits, targs = torch.randn(N, 4, generator=G), torch.randint(0, 2, (N, 4), generator=G)
    decided = (torch.sigmoid(logits) >= 0.4).long().numpy()
    assert feed(F1ScoreMulti(thresh=0.4), logits, targs) == pytest.approx(
        skm.f1_score(targs, decided, average="macro")
    )
    assert feed(PrecisionMulti(thresh=0.4, average="micro"), logits, targs) == pytest.approx(
        skm.precision_score(targs, decided, average="micro")
    )
    assert feed(RecallMulti(thresh=0.4), logits, targs) == pytest.approx(
        skm.recall_score(targs, decided, average="macro")
    )
    assert feed(RocAucMulti(), logits, targs) == pytest.approx(
        skm.roc_auc_score(targs, torch.sigmoid(logits))
    )


def test_names_and_wrapping():
    assert F1Score().name == "f1_score" and FBeta(0.5).name == "fbeta_score"
    assert RocAuc().name == "roc_auc_score" and CohenKappa().name == "cohen_kappa_score"
    assert isinstance(mk_metric(accuracy), AvgMetric) and mk_metric(error_rate).name == "error_rate"
