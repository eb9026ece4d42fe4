"""Average precision, Hamming loss and Jaccard over uneven batches equal scikit-learn's on the whole set."""

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_feed import feed as feed_batches

from layered.train.metrics.classification import (
    APScoreBinary,
    APScoreMulti,
    HammingLoss,
    HammingLossMulti,
    Jaccard,
    JaccardMulti,
)
from layered.train.metrics.metric import MetricError

G = torch.Generator().manual_seed(1)
SIZES = (7, 30, 1, 12)  # uneven, so averaging per-batch values would be wrong
N = sum(SIZES)
LOGITS = torch.randn(N, 3, generator=G)
LABELS = torch.randint(0, 3, (N,), generator=G)
BIN_LOGITS = torch.randn(N, 2, generator=G)
BIN_LABELS = torch.randint(0, 2, (N,), generator=G)
MULTI_LOGITS = torch.randn(N, 4, generator=G)
MULTI_TARGS = torch.randint(0, 2, (N, 4), generator=G)


def feed(metric, preds, targs):
    """One validation pass over this module's uneven batches."""
    return feed_batches(metric, preds, targs, SIZES)


def per_batch_mean(func, preds, targs):
    starts = np.cumsum((0, *SIZES[:-1]))
    return np.mean([func(targs[s : s + n], preds[s : s + n]) for s, n in zip(starts, SIZES) if n > 1])


def test_average_precision_binary_on_the_probability_of_class_one():
    probs = torch.softmax(BIN_LOGITS, 1)[:, 1].numpy()
    expected = skm.average_precision_score(BIN_LABELS, probs)
    assert feed(APScoreBinary(), BIN_LOGITS, BIN_LABELS) == pytest.approx(expected)
    one_logit = BIN_LOGITS[:, :1]  # a single output: its sigmoid is the probability of class 1
    sig = torch.sigmoid(one_logit).reshape(-1).numpy()
    assert feed(APScoreBinary(), one_logit, BIN_LABELS) == pytest.approx(
        skm.average_precision_score(BIN_LABELS, sig)
    )
    assert per_batch_mean(skm.average_precision_score, probs, BIN_LABELS.numpy()) != pytest.approx(expected)
    with pytest.raises(MetricError, match="a binary metric needs one or two outputs per item, found 3"):
        feed(APScoreBinary(), LOGITS, LABELS)


def test_average_precision_multi_label():
    probs = torch.sigmoid(MULTI_LOGITS).numpy()
    assert feed(APScoreMulti(), MULTI_LOGITS, MULTI_TARGS) == pytest.approx(
        skm.average_precision_score(MULTI_TARGS, probs)
    )
    assert feed(APScoreMulti(average="micro"), MULTI_LOGITS, MULTI_TARGS) == pytest.approx(
        skm.average_precision_score(MULTI_TARGS, probs, average="micro")
    )
    # sigmoid=False: the predictions are already probabilities
    assert feed(APScoreMulti(sigmoid=False), torch.sigmoid(MULTI_LOGITS), MULTI_TARGS) == pytest.approx(
        skm.average_precision_score(MULTI_TARGS, probs)
    )


def test_hamming_loss_single_and_multi_label():
    pred = LOGITS.argmax(1).numpy()
    assert feed(HammingLoss(), LOGITS, LABELS) == pytest.approx(skm.hamming_loss(LABELS, pred))
    decided = (torch.sigmoid(MULTI_LOGITS) >= 0.3).long().numpy()
    value = feed(HammingLossMulti(thresh=0.3), MULTI_LOGITS, MULTI_TARGS)
    assert value == pytest.approx(skm.hamming_loss(MULTI_TARGS, decided))
    assert value != pytest.approx(feed(HammingLossMulti(thresh=0.7), MULTI_LOGITS, MULTI_TARGS))


def test_jaccard_binary_multiclass_and_multi_label():
    bin_pred = BIN_LOGITS.argmax(1).numpy()
    expected = skm.jaccard_score(BIN_LABELS, bin_pred)
    assert feed(Jaccard(), BIN_LOGITS, BIN_LABELS) == pytest.approx(expected)
    assert per_batch_mean(skm.jaccard_score, bin_pred, BIN_LABELS.numpy()) != pytest.approx(expected)
    pred = LOGITS.argmax(1).numpy()
    assert feed(Jaccard(average="macro"), LOGITS, LABELS) == pytest.approx(
        skm.jaccard_score(LABELS, pred, average="macro")
    )
    decided = (torch.sigmoid(MULTI_LOGITS) >= 0.5).long().numpy()
    assert feed(JaccardMulti(), MULTI_LOGITS, MULTI_TARGS) == pytest.approx(
        skm.jaccard_score(MULTI_TARGS, decided, average="macro")
    )
    assert feed(JaccardMulti(average="micro"), MULTI_LOGITS, MULTI_TARGS) == pytest.approx(
        skm.jaccard_score(MULTI_TARGS, decided, average="micro")
    )


def test_names():
    assert [m.name for m in (APScoreBinary(), APScoreMulti(), HammingLoss(), Jaccard(), JaccardMulti())] == [
        "average_precision_score",
        "average_precision_score",
        "hamming_loss",
        "jaccard_score",
        "jaccard_score",
    ]
