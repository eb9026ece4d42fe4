"""Gradient clipping and gradient accumulation."""

from functools import partial

import pytest
import torch
from torch import nn
from train_tasks import linear_task

from layered.train.callback import Callback
from layered.train.callbacks.gradient import GradientAccumulation, GradientClip
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.optim.algorithms import SGD, Adam


class GradProbe(Callback):
    """Copy the gradients in before_step at its `order`, and count the steps that reach it."""

    def __init__(self, order):
        self.order, self.grads, self.norms = order, [], []

    @property
    def name(self):
        return f"grad_probe_{self.order}"

    def before_step(self):
        gs = [p.grad.clone() for p in self.learn.model.parameters()]
        self.grads.append(gs)
        self.norms.append(float(torch.linalg.vector_norm(torch.cat([g.flatten() for g in gs]))))


SGD_MOM = partial(SGD, mom=0.9)


def make_learner(bs, n_train=64, cbs=(), opt_func=SGD_MOM, lr=0.01, scale=1.0):
    torch.manual_seed(0)
    dls, _ = linear_task(n_train=n_train, n_valid=32, bs=bs)
    for dl in (dls.train, dls.valid):
        dl.dataset.tensors = (dl.dataset.tensors[0], dl.dataset.tensors[1] * scale)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), opt_func=opt_func, lr=lr, cbs=list(cbs))
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_gradient_clip_bounds_the_norm_and_keeps_the_direction():
    before, after = GradProbe(order=15), GradProbe(order=30)
    clip = GradientClip(max_norm=0.5)
    learn = make_learner(16, cbs=[before, clip, after], scale=100.0)
    learn.fit(1)
    assert len(after.norms) == 4
    assert min(before.norms) > 0.5  # every step was clipped
    for pre, post, norm in zip(before.grads, after.grads, before.norms):
        assert float(torch.linalg.vector_norm(torch.cat([g.flatten() for g in post]))) <= 0.5 + 1e-5
        for g0, g1 in zip(pre, post):
            assert torch.allclose(g1, g0 * (0.5 / norm), rtol=1e-4, atol=1e-6)
    with pytest.raises(TrainError, match="max_norm"):
        GradientClip(max_norm=0)


@pytest.mark.parametrize("opt_func", [SGD_MOM, Adam])
def test_accumulating_small_batches_equals_the_large_batch(opt_func):
    big = make_learner(16, opt_func=opt_func)
    big.fit(2)
    small = make_learner(4, cbs=[GradientAccumulation(n_acc=16)], opt_func=opt_func)
    small.fit(2)
    for p_big, p_small in zip(big.model.parameters(), small.model.parameters()):
        assert torch.allclose(p_small, p_big, rtol=1e-5, atol=1e-6)
    assert not torch.equal(big.model.weight, make_learner(16).model.weight)  # training moved the weights
    # the recorded losses are the batches' own, not the scaled ones
    assert small.recorder.values[0][0] == pytest.approx(big.recorder.values[0][0], rel=1e-5)
    assert small.recorder.values[1][1] == pytest.approx(big.recorder.values[1][1], rel=1e-5)


def test_accumulation_over_uneven_batches_averages_the_samples_seen():
    # batches of 6 reach n_acc=16 after 18 samples: each step is the mean over those 18
    big = make_learner(18, n_train=54)
    big.fit(1)
    small = make_learner(6, n_train=54, cbs=[GradientAccumulation(n_acc=16)])
    small.fit(1)
    for p_big, p_small in zip(big.model.parameters(), small.model.parameters()):
        assert torch.allclose(p_small, p_big, rtol=1e-5, atol=1e-6)


def test_skipped_steps_reach_no_later_callback():
    probe = GradProbe(order=30)
    learn = make_learner(4, cbs=[GradientAccumulation(n_acc=16), GradientClip(max_norm=1e6), probe])
    learn.fit(1)
    assert len(probe.norms) == 4  # 16 batches of 4, one step per 16 samples
    with pytest.raises(TrainError, match="n_acc"):
        GradientAccumulation(n_acc=0)
