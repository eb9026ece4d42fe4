"""Monte-Carlo dropout: several predictions with dropout on, whose spread shows the model's uncertainty."""

import pytest
import torch
from torch import nn
from train_tasks import class_task, quiet

from layered.core.seed import set_seed
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat


def make(model):
    set_seed(0)
    return quiet(Learner(class_task(), model, loss_func=CrossEntropyLossFlat()))


def test_mc_dropout_samples_differ_and_average_near_the_plain_prediction():
    model = nn.Sequential(nn.Linear(2, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 2))
    learn = make(model)
    learn.fit(2, 1e-2)
    bn_stats = model[1].running_mean.clone()
    preds, targs = learn.mc_dropout_preds(n_samples=20)
    plain, plain_targs = learn.get_preds()
    assert preds.shape == (20, *plain.shape) and torch.equal(targs, plain_targs)
    assert torch.allclose(preds.sum(-1), torch.ones(20, len(plain)), atol=1e-5)  # softmax applied
    assert preds.std(0).mean() > 1e-3  # dropout was on: the samples differ
    assert (preds.mean(0).argmax(-1) == plain.argmax(-1)).float().mean() > 0.9
    assert torch.equal(model[1].running_mean, bn_stats)  # batch norm stayed in eval mode
    assert not model.training and not model[3].training  # left in eval mode
    again, _ = learn.get_preds()
    assert torch.equal(again, plain)  # the callback is gone: plain predictions are deterministic


def test_mc_dropout_refuses_a_model_without_dropout_and_bad_sample_counts():
    learn = make(nn.Linear(2, 2))
    with pytest.raises(TrainError, match="has no dropout layer"):
        learn.mc_dropout_preds()
    with pytest.raises(TrainError, match="n_samples must be a positive integer, got 0"):
        learn.mc_dropout_preds(n_samples=0)
