"""MixUp and CutMix: blended inputs, blended losses or targets, untouched validation."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset

from layered.data.dataloaders import DataLoaders
from layered.train.callback import Callback
from layered.train.callbacks.mixup import CutMix, MixLoss, MixUp
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import BCEWithLogitsLossFlat, CrossEntropyLossFlat


class Capture(Callback):
    """Keep each batch as it was before the mixing callback (order 20) and as the model saw it."""

    def __init__(self, order):
        self.order, self.batches = order, []

    @property
    def name(self):
        return f"capture_{self.order}"

    def before_batch(self):
        self.batches.append({"training": self.training, "xb": self.learn.xb, "yb": self.learn.yb})

    def after_pred(self):
        self.batches[-1]["pred"] = self.learn.pred

    def after_loss(self):
        self.batches[-1]["loss"] = self.learn.loss_grad


def image_dls(n=32, bs=8, one_hot=False, int_inputs=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 8, 8, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    if one_hot:
        y = nn.functional.one_hot(y, 3).float()
    if int_inputs:
        x = (x * 10).long()
    ds = TensorDataset(x, y)
    return DataLoaders(TorchDataLoader(ds, batch_size=bs), TorchDataLoader(ds, batch_size=bs), device="cpu")


def make_learner(cb, one_hot=False, int_inputs=False):
    torch.manual_seed(0)
    loss = BCEWithLogitsLossFlat() if one_hot else CrossEntropyLossFlat()
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 3))
    before, after = Capture(order=15), Capture(order=30)
    learn = Learner(
        image_dls(one_hot=one_hot, int_inputs=int_inputs), model, loss_func=loss, cbs=[before, cb, after]
    )
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn, before, after


def last_train_batch(cap):
    return [b for b in cap.batches if b["training"]][-1]


def test_mixup_blends_inputs_and_losses_with_lam():
    mix = MixUp(alpha=0.4)
    mix._draw = lambda: 0.7
    learn, before, after = make_learner(mix)
    loss_func = learn.loss_func
    learn.fit(1)
    assert mix.lam == 0.7
    perm = mix.perm  # the last training batch's permutation
    last0, last1 = last_train_batch(before), last_train_batch(after)
    (x,), (y,) = last0["xb"], last0["yb"]
    assert torch.allclose(last1["xb"][0], 0.7 * x + 0.3 * x[perm], atol=1e-6)
    assert torch.equal(last1["yb"][0], y)  # class indices are not blended...
    pred = last1["pred"]
    expected = 0.7 * loss_func(pred, y) + 0.3 * loss_func(pred, y[perm])  # ...the loss is
    assert torch.allclose(last1["loss"], expected, atol=1e-6)
    assert not torch.allclose(last1["xb"][0], x)  # the permutation paired items with others
    assert learn.loss_func is loss_func  # the wrapper is gone after fit
    for v0, v1 in zip(
        (b for b in before.batches if not b["training"]), (b for b in after.batches if not b["training"])
    ):
        assert v1["xb"][0] is v0["xb"][0]  # validation is not mixed
        assert torch.allclose(v1["loss"], loss_func(v1["pred"], v0["yb"][0]))


def test_mixup_blends_one_hot_targets():
    mix = MixUp()
    learn, before, after = make_learner(mix, one_hot=True)
    learn.fit(1)
    last0, last1 = last_train_batch(before), last_train_batch(after)
    (y,), lam, perm = last0["yb"], mix.lam, mix.perm
    assert 0.5 <= lam <= 1
    assert torch.allclose(last1["yb"][0], lam * y + (1 - lam) * y[perm], atol=1e-6)
    assert torch.allclose(last1["loss"], learn.loss_func(last1["pred"], last1["yb"][0]), atol=1e-6)


def test_cutmix_pastes_a_box_whose_area_sets_lam():
    cut = CutMix(alpha=1.0)
    cut._draw = lambda: 0.75
    learn, before, after = make_learner(cut)
    loss_func = learn.loss_func
    learn.fit(1)
    last0, last1 = last_train_batch(before), last_train_batch(after)
    (x,), (y,), perm = last0["xb"], last0["yb"], cut.perm
    y0, y1, x0, x1 = cut.box
    inside = torch.zeros(8, 8, dtype=torch.bool)
    inside[y0:y1, x0:x1] = True
    mixed = last1["xb"][0]
    assert torch.equal(mixed[..., inside], x[perm][..., inside])
    assert torch.equal(mixed[..., ~inside], x[..., ~inside])
    assert cut.lam == pytest.approx(1 - inside.sum().item() / 64)
    expected = cut.lam * loss_func(last1["pred"], y) + (1 - cut.lam) * loss_func(last1["pred"], y[perm])
    assert torch.allclose(last1["loss"], expected, atol=1e-6)
    assert 0 < inside.sum() < 64


def test_mix_loss_delegates_and_inputs_must_be_float():
    mix = MixUp()
    wrapped = MixLoss(CrossEntropyLossFlat(), mix)
    scores = torch.tensor([[0.1, 2.0, -1.0]])
    assert torch.equal(wrapped.decodes(scores), torch.tensor([1]))
    assert wrapped.reduction == "mean"
    learn, _, _ = make_learner(MixUp(), int_inputs=True)
    loss_func = learn.loss_func
    with pytest.raises(TrainError, match=r"input 0 is a torch\.int64"):
        learn.fit(1)
    learn.dls = image_dls()
    learn.fit(1)  # a fit that died left the wrapper on; the next one unwraps it first
    assert learn.loss_func is loss_func
    with pytest.raises(TrainError, match="alpha"):
        CutMix(alpha=0)
