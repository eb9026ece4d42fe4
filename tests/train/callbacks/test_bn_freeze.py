"""BnFreeze: the batch-norm statistics of frozen layers stay put; those of trainable layers move."""

import pytest
import torch
from torch import nn
from train_tasks import class_task, quiet

from layered.core.seed import set_seed
from layered.train.callbacks.bn_freeze import BnFreeze, frozen_bn_layers
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat


def body_and_head():
    body = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU())
    head = nn.Sequential(nn.Linear(16, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
    return nn.Sequential(body, head)


def fitted(with_bn_freeze: bool, train_bn: bool = True):
    set_seed(0)
    model = body_and_head()
    learn = quiet(
        Learner(
            class_task(),
            model,
            loss_func=CrossEntropyLossFlat(),
            splitter=lambda m: [list(m[0].parameters()), list(m[1].parameters())],
            train_bn=train_bn,
        )
    )
    learn.freeze()
    before = [m[1].running_mean.clone() for m in (model[0], model[1])]
    learn.fit(1, 1e-2, cbs=[BnFreeze()] if with_bn_freeze else None)
    after = [m[1].running_mean for m in (model[0], model[1])]
    return learn, [torch.equal(b, a) for b, a in zip(before, after)]


@pytest.mark.parametrize("train_bn", [True, False])
def test_frozen_body_keeps_its_statistics(train_bn):
    learn, unchanged = fitted(with_bn_freeze=True, train_bn=train_bn)
    assert unchanged == [True, False]  # body frozen: kept; head trainable: updated
    assert frozen_bn_layers(learn.model, learn.opt) == [learn.model[0][1]]
    _, unchanged = fitted(with_bn_freeze=False, train_bn=train_bn)
    assert unchanged == [False, False]  # without BnFreeze, frozen layers' statistics drift
