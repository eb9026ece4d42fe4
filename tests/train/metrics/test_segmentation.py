"""Dice and Jaccard from counts over uneven batches equal the scores of the whole set's pixels."""

from types import SimpleNamespace

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from metric_feed import feed as feed_batches

from layered.train.metrics.metric import MetricError
from layered.train.metrics.segmentation import Dice, DiceMulti, ForegroundAccuracy, JaccardCoeff

G = torch.Generator().manual_seed(0)
SIZES = (3, 9, 1, 5)  # uneven, so a mean of per-batch scores would be wrong
N = sum(SIZES)
TWO_LOGITS = torch.randn(N, 2, 6, 6, generator=G)
MASKS = (torch.rand(N, 6, 6, generator=G) < 0.3).long()
BIN_PRED = TWO_LOGITS.argmax(1)


def feed(metric, preds, targs):
    """One validation pass over this module's uneven batches."""
    return feed_batches(metric, preds, targs, SIZES)


def test_dice_and_jaccard_equal_f1_and_iou_of_all_pixels():
    pred, targ = BIN_PRED.reshape(-1).numpy(), MASKS.reshape(-1).numpy()
    dice = feed(Dice(), TWO_LOGITS, MASKS)
    assert dice == pytest.approx(skm.f1_score(targ, pred))  # binary F1 over pixels is Dice
    assert feed(JaccardCoeff(), TWO_LOGITS, MASKS) == pytest.approx(skm.jaccard_score(targ, pred))
    starts = np.cumsum((0, *SIZES[:-1]))
    per_batch = [
        skm.f1_score(targ[s * 36 : (s + n) * 36], pred[s * 36 : (s + n) * 36]) for s, n in zip(starts, SIZES)
    ]
    assert np.mean(per_batch) != pytest.approx(dice, rel=1e-3)


def test_dice_accepts_masks_with_a_channel_axis_and_classes_on_another_axis():
    channels_last = TWO_LOGITS.movedim(1, -1)  # (bs, h, w, 2)
    expected = feed(Dice(), TWO_LOGITS, MASKS)
    assert feed(Dice(axis=-1), channels_last, MASKS[:, None]) == pytest.approx(expected)


def test_binary_overlap_metrics_refuse_multiclass_masks_and_start_empty():
    assert Dice().value is None and JaccardCoeff().value is None
    with pytest.raises(
        MetricError, match=r"dice is binary: mask values must be 0 or 1, found values in \[0, 2\]"
    ):
        feed(Dice(), TWO_LOGITS, MASKS * 2)
    empty = torch.zeros(N, 6, 6, dtype=torch.long)
    nothing_predicted = torch.stack([torch.ones(N, 6, 6), torch.zeros(N, 6, 6)], 1)
    assert feed(Dice(), nothing_predicted, empty) is None  # 0/0: no foreground anywhere


def test_dice_multi_is_the_mean_of_per_class_dice_over_classes_present():
    logits = torch.randn(N, 4, 5, 5, generator=G)
    logits[:, 3] = -1e4  # class 3 is never predicted ...
    masks = torch.randint(0, 3, (N, 5, 5), generator=G)  # ... and never in a mask: left out
    pred, targ = logits.argmax(1).reshape(-1).numpy(), masks.reshape(-1).numpy()
    per_class = skm.f1_score(targ, pred, labels=[0, 1, 2], average=None)
    assert feed(DiceMulti(), logits, masks) == pytest.approx(per_class.mean())
    assert DiceMulti().name == "dice_multi" and DiceMulti().value is None


def test_dice_multi_refuses_labels_outside_the_classes():
    logits = torch.randn(N, 3, 4, 4, generator=G)
    with pytest.raises(MetricError, match=r"class indices in \[0, 3\).*found values in \[3, 3\]"):
        feed(DiceMulti(), logits, torch.full((N, 4, 4), 3))


def test_dice_multi_refuses_a_change_in_the_number_of_classes():
    metric = DiceMulti()
    metric.accumulate(
        SimpleNamespace(pred=torch.randn(2, 3, 4, 4), yb=(torch.zeros(2, 4, 4, dtype=torch.long),))
    )
    with pytest.raises(MetricError, match="this batch has 4 classes, earlier batches had 3"):
        metric.accumulate(
            SimpleNamespace(pred=torch.randn(2, 4, 4, 4), yb=(torch.zeros(2, 4, 4, dtype=torch.long),))
        )


def test_foreground_accuracy_leaves_out_the_background_pixels():
    logits = torch.randn(N, 4, 5, 5, generator=G)
    masks = torch.randint(0, 4, (N, 5, 5), generator=G)
    pred, targ = logits.argmax(1).reshape(-1).numpy(), masks.reshape(-1).numpy()
    fg = targ != 0
    expected = skm.accuracy_score(targ[fg], pred[fg])
    assert feed(ForegroundAccuracy(), logits, masks) == pytest.approx(expected)
    assert expected != pytest.approx(skm.accuracy_score(targ, pred), rel=1e-3)
    other = targ != 2
    assert feed(ForegroundAccuracy(bkg_idx=2), logits, masks) == pytest.approx(
        skm.accuracy_score(targ[other], pred[other])
    )
    starts = np.cumsum((0, *SIZES[:-1]))
    per_batch = [
        skm.accuracy_score(
            targ[s * 25 : (s + n) * 25][fg[s * 25 : (s + n) * 25]],
            pred[s * 25 : (s + n) * 25][fg[s * 25 : (s + n) * 25]],
        )
        for s, n in zip(starts, SIZES)
    ]
    assert np.mean(per_batch) != pytest.approx(expected, rel=1e-3)
    all_background = torch.zeros(3, 5, 5, dtype=torch.long)
    assert feed(ForegroundAccuracy(), logits[:3], all_background) is None  # no foreground pixel: no value
    with pytest.raises(MetricError, match="bkg_idx must be a class index"):
        ForegroundAccuracy(bkg_idx="background")
