"""DiceLoss: one minus the soft Dice score per item and class, equal to 1 - F1 on confident predictions."""

import pytest
import sklearn.metrics as skm
import torch
import torch.nn.functional as F

from layered.core.config import from_config, to_config
from layered.data.categorize import TensorCategory
from layered.train.losses.dice import DiceLoss
from layered.train.losses.flattened import LossError

G = torch.Generator().manual_seed(0)
LOGITS = torch.randn(4, 3, 5, 6, generator=G)  # (bs, classes, h, w)
MASKS = torch.randint(0, 3, (4, 5, 6), generator=G)


def test_dice_loss_matches_its_formula_and_trains():
    probs = LOGITS.softmax(1)
    one_hot = F.one_hot(MASKS, 3).permute(0, 3, 1, 2).float()
    inter = (probs * one_hot).sum((2, 3))
    union = probs.sum((2, 3)) + one_hot.sum((2, 3))
    per_item_class = 1 - (2 * inter + 1e-6) / (union + 1e-6)
    assert DiceLoss()(LOGITS, TensorCategory(MASKS)).item() == pytest.approx(
        per_item_class.sum().item(), rel=1e-6
    )
    assert DiceLoss(reduction="mean")(LOGITS, MASKS).item() == pytest.approx(
        per_item_class.mean().item(), rel=1e-6
    )
    assert torch.allclose(DiceLoss(reduction="none")(LOGITS, MASKS), per_item_class, atol=1e-6)
    squared = 1 - (2 * inter + 1e-6) / (probs.square().sum((2, 3)) + one_hot.sum((2, 3)) + 1e-6)
    assert DiceLoss(square_in_union=True)(LOGITS, MASKS).item() == pytest.approx(
        squared.sum().item(), rel=1e-6
    )
    logits = torch.zeros_like(LOGITS, requires_grad=True)
    opt = torch.optim.SGD([logits], lr=50.0)
    for _ in range(30):
        opt.zero_grad()
        DiceLoss()(logits, MASKS).backward()
        opt.step()
    assert torch.equal(logits.argmax(1), MASKS)  # gradient descent on the loss alone finds the masks


def test_confident_predictions_give_one_minus_scikit_learn_f1_per_class():
    confident = F.one_hot(LOGITS.argmax(1), 3).permute(0, 3, 1, 2).float() * 100  # softmax ~ one-hot
    losses = DiceLoss(reduction="none", smooth=0.0)(confident, MASKS)
    for i in range(4):
        f1 = skm.f1_score(
            MASKS[i].reshape(-1), LOGITS[i].argmax(0).reshape(-1), average=None, labels=[0, 1, 2]
        )
        assert torch.allclose(losses[i].double(), torch.from_numpy(1 - f1), atol=1e-5)


def test_dice_loss_activation_decoding_export_and_bad_inputs():
    loss = DiceLoss(axis=-1)
    channels_last = LOGITS.movedim(1, -1)
    assert loss(channels_last, MASKS).item() == pytest.approx(DiceLoss()(LOGITS, MASKS).item(), rel=1e-6)
    assert torch.allclose(loss.activation(channels_last), channels_last.softmax(-1))
    assert torch.equal(loss.decodes(channels_last), LOGITS.argmax(1))
    rebuilt = from_config(*to_config(DiceLoss(smooth=1.0, reduction="mean")))
    assert type(rebuilt) is DiceLoss and rebuilt.smooth == 1.0 and rebuilt.reduction == "mean"
    with pytest.raises(LossError, match=r"targets of shape \(4, 5, 6\), got \(4, 6, 5\)"):
        DiceLoss()(LOGITS, MASKS.transpose(1, 2))
    with pytest.raises(LossError, match=r"class indices in \[0, 3\), found values in \[0, 3\]"):
        DiceLoss()(LOGITS, MASKS.clamp(max=1) * 3)
    with pytest.raises(LossError, match="reduction must be one of"):
        DiceLoss(reduction="avg")
    with pytest.raises(LossError, match="smooth must be >= 0"):
        DiceLoss(smooth=-1)
