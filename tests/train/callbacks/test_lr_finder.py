"""Tests of lr_finder."""

import math

import torch
from torch import nn
from train_tasks import class_task, mlp

from layered.core.seed import set_seed
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat


def quiet(learn):
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_lr_find_restores_the_model_and_optimizer_exactly():
    set_seed(2)
    learn = quiet(Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat()))
    learn.fit(1)
    model_before = {k: v.clone() for k, v in learn.model.state_dict().items()}
    opt_before = learn.opt.state_dict()
    suggestion = learn.lr_find(num_it=30, show_plot=False)
    assert 1e-7 < suggestion.valley < 10
    assert all(torch.equal(model_before[k], v) for k, v in learn.model.state_dict().items())
    after = learn.opt.state_dict()
    assert after["hypers"] == opt_before["hypers"]
    assert len(learn.lr_finder.losses) <= 30
    assert all(math.isfinite(x) for x in learn.lr_finder.losses)


def test_lr_find_ignores_divergence_and_suggests():
    set_seed(2)
    learn = quiet(Learner(class_task(), nn.Sequential(nn.Linear(2, 2)), loss_func=CrossEntropyLossFlat()))
    found = learn.lr_find(end_lr=1e4, num_it=60, show_plot=False)
    assert len(learn.lr_finder.lrs) < 60  # stopped when the loss blew up
    assert 1e-7 < found.valley < 1e4
