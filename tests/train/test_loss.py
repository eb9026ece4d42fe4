"""Flattened losses match torch's functional losses; smoothing and focal match their formulas."""

import pytest
import torch
import torch.nn.functional as F

from layered.data.categorize import TensorCategory
from layered.train.loss import (
    BCEWithLogitsLossFlat,
    CrossEntropyLossFlat,
    FocalLossFlat,
    L1LossFlat,
    LabelSmoothingCrossEntropyFlat,
    MSELossFlat,
)

G = torch.Generator().manual_seed(0)


def test_cross_entropy_flat_on_segmentation_shapes_and_decodes():
    logits, masks = torch.randn(2, 3, 4, 5, generator=G), torch.randint(0, 3, (2, 4, 5), generator=G)
    loss = CrossEntropyLossFlat(axis=1)
    assert loss(logits, TensorCategory(masks)).item() == pytest.approx(
        F.cross_entropy(logits, masks).item(), rel=1e-6
    )
    assert torch.equal(loss.decodes(logits), logits.argmax(1))
    assert torch.allclose(loss.activation(logits).sum(1), torch.ones(2, 4, 5))
    loss.reduction = "none"
    assert loss(logits, masks).shape == (40,)


def test_bce_mse_l1():
    logits, targs = torch.randn(6, 4, generator=G), torch.randint(0, 2, (6, 4), generator=G)
    bce = BCEWithLogitsLossFlat()
    assert bce(logits, targs).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(logits, targs.float()).item()
    )
    assert torch.equal(bce.decodes(torch.sigmoid(logits)), torch.sigmoid(logits) > 0.5)
    preds, ys = torch.randn(8, 1, generator=G), torch.randn(8, generator=G)
    assert MSELossFlat()(preds, ys).item() == pytest.approx(F.mse_loss(preds.view(-1), ys).item())
    assert L1LossFlat()(preds, ys).item() == pytest.approx(F.l1_loss(preds.view(-1), ys).item())


def test_label_smoothing_and_focal_match_their_formulas():
    logits, targs = torch.randn(10, 5, generator=G), torch.randint(0, 5, (10,), generator=G)
    logp = F.log_softmax(logits, 1)
    eps = 0.1
    smoothed = -(1 - eps) * logp[torch.arange(10), targs] - eps * logp.mean(1)
    assert LabelSmoothingCrossEntropyFlat(eps=eps)(logits, targs).item() == pytest.approx(
        smoothed.mean().item(), rel=1e-5
    )
    p_true = logp[torch.arange(10), targs].exp()
    focal = -((1 - p_true) ** 2) * logp[torch.arange(10), targs]
    assert FocalLossFlat(gamma=2.0)(logits, targs).item() == pytest.approx(focal.mean().item(), rel=1e-5)
