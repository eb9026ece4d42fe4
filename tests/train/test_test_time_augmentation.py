"""Test-time augmentation: the training transforms replayed on validation items, mixed with plain predictions."""

import pytest
import torch
from torch import nn
from train_tasks import class_task, mlp

from layered.core.transform import Transform
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.splitters import IndexSplitter
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.test_time_augmentation import augmented_loader, tta

G = torch.Generator().manual_seed(0)
POINTS = torch.randn(40, 2, generator=G)
LABELS = (POINTS[:, 0] > 0).long()


def get_point(i):
    return POINTS[i]


def get_label(i):
    return "pos" if LABELS[i] else "neg"


class Shift(Transform):
    """Training-only augmentation: moves every input point by `by` (labels are integers: untouched)."""

    split_idx = 0

    def __init__(self, by):
        super().__init__()
        self.by = by

    def encodes(self, x: torch.Tensor):
        return x + self.by if x.is_floating_point() else x


class Jitter(Shift):
    """Training-only augmentation: random noise on the input points."""

    def encodes(self, x: torch.Tensor):
        return x + torch.randn_like(x) * self.by if x.is_floating_point() else x


def make_learner(tfm):
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=get_point,
        get_y=get_label,
        splitter=IndexSplitter(range(30, 40)),
        batch_tfms=tfm,
    )
    torch.manual_seed(0)
    learn = Learner(dblock.dataloaders(list(range(40)), bs=4), nn.Linear(2, 2))
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_tta_mixes_augmented_and_plain_predictions():
    learn = make_learner(Shift(1.0))
    x = POINTS[30:]
    with torch.no_grad():
        plain = learn.model(x).softmax(1)
        shifted = learn.model(x + 1.0).softmax(1)
    aug_dl = augmented_loader(learn.dls.valid)
    xb, _ = aug_dl.one_batch()
    assert torch.allclose(xb.as_subclass(torch.Tensor), x[:4] + 1.0)  # validation items, training transforms
    preds, targs = tta(learn, n=2, beta=0.25)
    assert torch.allclose(preds, 0.75 * shifted + 0.25 * plain, atol=1e-6)
    assert torch.equal(targs.as_subclass(torch.Tensor), LABELS[30:])
    assert torch.allclose(learn.tta(n=1, beta=1.0)[0], plain, atol=1e-6)  # the method is the function
    (aug, base), _ = tta(learn, n=3, beta=None)
    assert torch.allclose(aug, shifted, atol=1e-6) and torch.allclose(base, plain, atol=1e-6)
    maxed, _ = tta(learn, n=2, use_max=True)
    assert torch.allclose(maxed, torch.maximum(shifted, plain), atol=1e-6)
    # the plain loader was left alone: its predictions carry no shift
    assert torch.allclose(learn.get_preds()[0], plain, atol=1e-6)


def test_tta_averages_random_passes():
    learn = make_learner(Jitter(0.5))
    torch.manual_seed(1)
    one, _ = tta(learn, n=1, beta=0.0)
    many, _ = tta(learn, n=8, beta=0.0)
    plain, _ = learn.get_preds()
    assert not torch.allclose(one, plain, atol=1e-3)  # augmentation ran
    # averaging passes pulls the augmented prediction towards its expectation, near the plain one
    assert (many - plain).abs().mean() < (one - plain).abs().mean()


def test_tta_errors():
    learn = make_learner(Shift(1.0))
    with pytest.raises(TrainError, match="n is the number"):
        tta(learn, n=0)
    with pytest.raises(TrainError, match="beta"):
        tta(learn, beta=1.5)
    plain = Learner(class_task(), mlp(), loss_func=nn.CrossEntropyLoss())
    with pytest.raises(TrainError, match="TfmdDL over Datasets"):
        tta(plain)
