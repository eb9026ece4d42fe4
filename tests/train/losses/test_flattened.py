"""Flattened losses match torch's functional losses; label smoothing and focal loss their formulas."""

import pytest
import torch
import torch.nn.functional as F

from layered.core.config import from_config, to_config
from layered.data.categorize import TensorCategory
from layered.train.errors import TrainError
from layered.train.losses.flattened import (
    BaseLossFlat,
    BCELossFlat,
    BCEWithLogitsLossFlat,
    CrossEntropyLossFlat,
    FocalLoss,
    FocalLossFlat,
    L1LossFlat,
    LabelSmoothingCrossEntropy,
    LabelSmoothingCrossEntropyFlat,
    LossError,
    MSELossFlat,
)

G = torch.Generator().manual_seed(0)
LOGITS = torch.randn(10, 5, generator=G)
LABELS = torch.randint(0, 5, (10,), generator=G)
LOG_P = F.log_softmax(LOGITS, 1)
LOG_P_TRUE = LOG_P[torch.arange(10), LABELS]


def test_cross_entropy_flat_matches_torch_and_keeps_the_graph():
    logits = LOGITS.clone().requires_grad_()
    loss = CrossEntropyLossFlat()(logits, TensorCategory(LABELS))
    assert type(loss) is torch.Tensor and loss.requires_grad
    assert loss.item() == pytest.approx(F.cross_entropy(LOGITS, LABELS).item(), rel=1e-6)
    loss.backward()
    assert logits.grad is not None and logits.grad.shape == LOGITS.shape
    small = CrossEntropyLossFlat()(LOGITS, LABELS.to(torch.uint8))  # any integer type is a class index
    assert small.item() == pytest.approx(loss.item(), rel=1e-6)
    weight = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    weighted = CrossEntropyLossFlat(weight=weight)(LOGITS, LABELS)
    assert weighted.item() == pytest.approx(F.cross_entropy(LOGITS, LABELS, weight=weight).item(), rel=1e-6)


def test_cross_entropy_flat_on_segmentation_shapes():
    logits = torch.randn(2, 3, 4, 5, generator=G)
    masks = torch.randint(0, 3, (2, 4, 5), generator=G)
    loss = CrossEntropyLossFlat(axis=1)
    assert loss(logits, TensorCategory(masks)).item() == pytest.approx(
        F.cross_entropy(logits, masks).item(), rel=1e-6
    )
    loss.reduction = "none"  # what get_preds(with_loss=True) does: one loss per pixel, in order
    per_pixel = loss(logits, masks)
    assert per_pixel.shape == (40,)
    assert torch.allclose(per_pixel, F.cross_entropy(logits, masks, reduction="none").reshape(-1), atol=1e-6)
    loss.reduction = "sum"
    assert loss(logits, masks).item() == pytest.approx(per_pixel.sum().item(), rel=1e-5)
    assert torch.equal(loss.decodes(loss.activation(logits)), logits.argmax(1))
    assert torch.allclose(loss.activation(logits).sum(1), torch.ones(2, 4, 5))
    unflat = CrossEntropyLossFlat(axis=1, flatten=False)  # tensors reach torch's loss as they are
    assert unflat(logits, masks).item() == pytest.approx(F.cross_entropy(logits, masks).item(), rel=1e-6)


def test_cross_entropy_flat_with_soft_targets_of_the_predictions_shape():
    logits = torch.randn(2, 3, 4, generator=G)  # classes on axis 1
    soft = torch.softmax(torch.randn(2, 3, 4, generator=G), 1)
    expected = F.cross_entropy(logits, soft)
    assert CrossEntropyLossFlat(axis=1)(logits, soft).item() == pytest.approx(expected.item(), rel=1e-6)


def test_reduction_is_checked():
    loss = CrossEntropyLossFlat()
    with pytest.raises(
        LossError, match=r"CrossEntropyLossFlat: reduction must be one of .*got 'avg'"
    ) as info:
        loss.reduction = "avg"
    assert isinstance(info.value, ValueError) and isinstance(info.value, TrainError)
    assert loss.reduction == "mean"
    with pytest.raises(LossError, match="reduction"):
        MSELossFlat(reduction="batchmean")
    with pytest.raises(LossError, match="reduction"):
        FocalLoss(reduction="max")


def test_mismatched_predictions_and_targets_are_refused():
    with pytest.raises(
        LossError, match=r"predictions of shape \(4, 3\) .* 4 items but targets of shape \(5,\) to 5"
    ):
        CrossEntropyLossFlat()(torch.randn(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(LossError, match=r"MSELossFlat: predictions of shape \(4, 2\)"):
        MSELossFlat()(torch.randn(4, 2), torch.zeros(4))


def test_bce_with_logits_flat():
    logits = torch.randn(6, 4, generator=G)
    targs = torch.randint(0, 2, (6, 4), generator=G)
    bce = BCEWithLogitsLossFlat(thresh=0.3)
    expected = F.binary_cross_entropy_with_logits(logits, targs.float())
    assert bce(logits, targs).item() == pytest.approx(expected.item(), rel=1e-6)  # integer targets floatified
    probs = bce.activation(logits)
    assert torch.allclose(probs, torch.sigmoid(logits)) and torch.equal(bce.decodes(probs), probs > 0.3)
    binary = torch.randn(6, 1, generator=G)  # one output per item against (bs,) targets
    ys = torch.randint(0, 2, (6,), generator=G)
    assert bce(binary, ys).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(binary.reshape(-1), ys.float()).item(), rel=1e-6
    )
    seg = torch.randn(2, 3, 4, 4, generator=G)  # multi-label masks, labels on axis 1
    seg_targ = torch.randint(0, 2, (2, 3, 4, 4), generator=G)
    assert BCEWithLogitsLossFlat(axis=1)(seg, seg_targ).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(seg, seg_targ.float()).item(), rel=1e-6
    )


def test_bce_with_pos_weight_keeps_the_label_axis():
    logits = torch.randn(2, 3, 5, generator=G)  # labels on axis 1
    targs = torch.randint(0, 2, (2, 3, 5), generator=G).float()
    pos_weight = torch.tensor([1.0, 4.0, 0.5])
    loss = BCEWithLogitsLossFlat(axis=1, pos_weight=pos_weight, reduction="none")
    expected = F.binary_cross_entropy_with_logits(
        logits.movedim(1, -1), targs.movedim(1, -1), pos_weight=pos_weight, reduction="none"
    )
    assert torch.allclose(loss(logits, targs), expected.reshape(-1, 3), atol=1e-6)


def test_mse_and_l1_flat():
    preds, ys = torch.randn(8, 1, generator=G), torch.randn(8, generator=G)
    assert MSELossFlat()(preds, ys).item() == pytest.approx(
        F.mse_loss(preds.reshape(-1), ys).item(), rel=1e-6
    )
    assert L1LossFlat()(preds, ys).item() == pytest.approx(F.l1_loss(preds.reshape(-1), ys).item(), rel=1e-6)
    ints = torch.arange(8)
    assert MSELossFlat()(preds, ints).item() == pytest.approx(
        F.mse_loss(preds.reshape(-1), ints.float()).item()
    )
    regression = MSELossFlat()
    assert torch.equal(regression.decodes(regression.activation(preds)), preds)


def smoothed(log_p, labels, eps):
    """Label-smoothing cross entropy per item, written out."""
    true = log_p[torch.arange(len(labels)), labels]
    return -(1 - eps) * true - eps * log_p.mean(1)


def test_label_smoothing_matches_its_formula():
    eps = 0.2
    per_item = smoothed(LOG_P, LABELS, eps)
    flat = LabelSmoothingCrossEntropyFlat(eps=eps)
    assert flat(LOGITS, LABELS).item() == pytest.approx(per_item.mean().item(), rel=1e-5)
    flat.reduction = "none"
    assert torch.allclose(flat(LOGITS, LABELS), per_item, atol=1e-6)
    assert LabelSmoothingCrossEntropy(eps=eps, reduction="sum")(LOGITS, LABELS).item() == pytest.approx(
        per_item.sum().item(), rel=1e-5
    )
    assert LabelSmoothingCrossEntropy(eps=0.0)(LOGITS, LABELS).item() == pytest.approx(
        F.cross_entropy(LOGITS, LABELS).item(), rel=1e-6
    )
    with pytest.raises(LossError, match="eps must be in"):
        LabelSmoothingCrossEntropy(eps=1.5)


def test_label_smoothing_flat_on_a_class_axis_that_is_not_last():
    seq = torch.randn(3, 5, 4, generator=G)  # (bs, classes, tokens)
    targ = torch.randint(0, 5, (3, 4), generator=G)
    flat = LabelSmoothingCrossEntropyFlat(eps=0.1, axis=1)
    rows = seq.movedim(1, -1).reshape(-1, 5)
    expected = smoothed(F.log_softmax(rows, 1), targ.reshape(-1), 0.1).mean()
    assert flat(seq, targ).item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.equal(flat.decodes(flat.activation(seq)), seq.argmax(1))


def focal(log_p_true, gamma):
    """Focal loss per item, written out."""
    return -((1 - log_p_true.exp()) ** gamma) * log_p_true


def test_focal_loss_matches_its_formula():
    flat = FocalLossFlat(gamma=2.0)
    assert flat(LOGITS, LABELS).item() == pytest.approx(focal(LOG_P_TRUE, 2.0).mean().item(), rel=1e-5)
    flat.reduction = "none"
    assert torch.allclose(flat(LOGITS, LABELS), focal(LOG_P_TRUE, 2.0), atol=1e-6)
    assert FocalLoss(gamma=0.0)(LOGITS, LABELS).item() == pytest.approx(
        F.cross_entropy(LOGITS, LABELS).item(), rel=1e-6
    )
    weight = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
    w = weight[LABELS]
    expected = (w * focal(LOG_P_TRUE, 1.5)).sum() / w.sum()
    assert FocalLoss(gamma=1.5, weight=weight)(LOGITS, LABELS).item() == pytest.approx(
        expected.item(), rel=1e-5
    )
    seg = torch.randn(2, 5, 3, 3, generator=G)
    masks = torch.randint(0, 5, (2, 3, 3), generator=G)
    rows = F.log_softmax(seg.movedim(1, -1).reshape(-1, 5), 1)
    expected = focal(rows[torch.arange(18), masks.reshape(-1)], 2.0).mean()
    assert FocalLossFlat(axis=1)(seg, masks).item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(LossError, match="gamma must be >= 0"):
        FocalLoss(gamma=-1)


def test_base_loss_flat_wraps_any_loss_class():
    smooth_l1 = BaseLossFlat(torch.nn.SmoothL1Loss, beta=0.5, floatify=True, is_2d=False)
    preds, ys = torch.randn(4, 3, generator=G), torch.randint(0, 3, (4, 3), generator=G)
    expected = F.smooth_l1_loss(preds.reshape(-1), ys.reshape(-1).float(), beta=0.5)
    assert smooth_l1(preds, ys).item() == pytest.approx(expected.item(), rel=1e-6)
    assert repr(smooth_l1).startswith("BaseLossFlat(axis=-1, reduction='mean')")


@pytest.mark.parametrize(
    "loss",
    [
        CrossEntropyLossFlat(axis=1, weight=torch.tensor([1.0, 2.0, 3.0, 1.0, 1.0])),
        LabelSmoothingCrossEntropyFlat(eps=0.3),
        FocalLossFlat(gamma=1.5),
    ],
)
def test_losses_survive_export(loss):
    rebuilt = from_config(*to_config(loss))
    assert type(rebuilt) is type(loss) and rebuilt.axis == loss.axis
    assert rebuilt(LOGITS, LABELS).item() == pytest.approx(loss(LOGITS, LABELS).item())
    rebuilt.reduction = "none"
    assert rebuilt(LOGITS, LABELS).shape == (10,)


def test_bce_loss_flat_on_probabilities_equals_scikit_learn_log_loss():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    probs = torch.rand(6, 4, 3, generator=G) * 0.98 + 0.01  # (bs, labels, positions), labels on axis 1
    targs = torch.randint(0, 2, (6, 4, 3), generator=G)
    loss = BCELossFlat(axis=1)
    value = loss(probs, targs)
    expected = sklearn_metrics.log_loss(targs.reshape(-1).numpy(), probs.reshape(-1).double().numpy())
    assert type(value) is torch.Tensor and value.item() == pytest.approx(expected, rel=1e-5)
    logits = torch.logit(probs)
    assert value.item() == pytest.approx(BCEWithLogitsLossFlat(axis=1)(logits, targs).item(), rel=1e-5)
    assert torch.equal(loss.decodes(probs), probs > 0.5) and torch.equal(loss.activation(probs), probs)
    weight = torch.tensor([1.0, 2.0, 0.5, 1.0])  # one per label: the label axis is kept, last
    weighted = BCELossFlat(axis=1, weight=weight)(probs, targs)
    by_hand = F.binary_cross_entropy(probs.movedim(1, -1), targs.movedim(1, -1).float(), weight=weight)
    assert weighted.item() == pytest.approx(by_hand.item(), rel=1e-6)
    loss.reduction = "none"
    assert loss(probs, targs).shape == (72,)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        BCELossFlat()(logits * 10, targs)  # scores, not probabilities: torch names the problem
    rebuilt = from_config(*to_config(BCELossFlat(thresh=0.3)))
    assert type(rebuilt) is BCELossFlat and rebuilt.thresh == 0.3
