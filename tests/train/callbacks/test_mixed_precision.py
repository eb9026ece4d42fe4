"""Mixed precision on the CPU: bf16 autocast, fp16 autocast with a CPU GradScaler."""

import pytest
import torch
from torch import nn
from train_tasks import linear_task

from layered.train.callback import Callback
from layered.train.callbacks.gradient import GradientAccumulation
from layered.train.callbacks.mixed_precision import MixedPrecision, to_bf16, to_fp16, to_fp32
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.optim.algorithms import SGD


class Dtypes(Callback):
    """Record the dtypes of the inner layer's output, of the predictions and of the loss."""

    order = 15

    def __init__(self):
        self.inner, self.pred, self.loss, self.loss_grad, self.grads = [], [], [], [], []

    def before_fit(self):
        self.learn.model[0].register_forward_hook(lambda m, i, o: self.inner.append(o.dtype))

    def after_pred(self):
        self.pred.append(self.learn.pred.dtype)

    def after_loss(self):
        self.loss.append(self.learn.loss_grad.dtype)

    def before_backward(self):
        self.loss_grad.append((float(self.learn.loss), float(self.learn.loss_grad.detach())))

    def before_step(self):
        self.grads.append([p.grad.clone() for p in self.learn.model.parameters()])


def make_learner(cbs=(), lr=0.01, loss_func=None):
    torch.manual_seed(0)
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    learn = Learner(dls, model, loss_func=loss_func or MSELossFlat(), opt_func=SGD, lr=lr, cbs=list(cbs))
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_bf16_autocasts_the_forward_and_keeps_the_loss_float32():
    probe = Dtypes()
    learn = to_bf16(make_learner([probe]))
    learn.fit(1)
    assert set(probe.inner) == {torch.bfloat16}
    assert set(probe.pred) == {torch.float32}
    assert set(probe.loss) == {torch.float32}
    assert learn.mixed_precision.scaler is None
    # outside fit the model is plain float32 again and autocast is off
    assert not torch.is_autocast_enabled("cpu")
    assert not learn.model._forward_hooks and not learn.model._forward_pre_hooks
    assert learn.model(torch.randn(2, 4)).dtype == torch.float32
    assert probe.inner[-1] == torch.float32


def test_bf16_trains_and_get_preds_run_in_bf16():
    learn = to_bf16(make_learner(lr=0.15))
    before = learn.validate()[0]
    learn.fit(4)
    after = learn.validate()[0]
    assert after < before / 10
    inner = []
    learn.model[0].register_forward_hook(lambda m, i, o: inner.append(o.dtype))
    preds, targs = learn.get_preds()
    assert preds.dtype == torch.float32 and preds.shape == targs.shape
    assert inner and set(inner) == {torch.bfloat16}


def test_fp16_scales_the_loss_and_unscales_gradients_before_other_callbacks():
    probe = Dtypes()
    learn = to_fp16(make_learner([probe]), init_scale=2.0**10)
    reference = make_learner()
    xb, yb = next(iter(reference.dls.train))
    nn.functional.mse_loss(reference.model(xb), yb).backward()
    learn.fit(1)
    assert set(probe.inner) == {torch.float16} and set(probe.loss) == {torch.float32}
    loss, scaled = probe.loss_grad[0]
    assert scaled == pytest.approx(loss * 2.0**10, rel=1e-6)
    for g, ref in zip(probe.grads[0], reference.model.parameters()):
        assert torch.allclose(g, ref.grad, rtol=2e-2, atol=2e-3)
    assert learn.mixed_precision.n_skipped == 0


class InfAt:
    """MSE loss that is infinite on its `at`-th call."""

    def __init__(self, at):
        self.at, self.calls = at, 0

    def __call__(self, pred, targ):
        self.calls += 1
        loss = nn.functional.mse_loss(pred, targ)
        return loss * float("inf") if self.calls == self.at else loss


class Weights(Callback):
    order = 90

    def before_fit(self):
        self.after = []

    def after_batch(self):
        if self.training:
            self.after.append(self.learn.model[0].weight.detach().clone())


def test_fp16_skips_a_step_with_inf_gradients_and_lowers_the_scale():
    weights = Weights()
    learn = to_fp16(make_learner([weights], loss_func=InfAt(2)), init_scale=2.0**8)
    learn.fit(1)
    mp = learn.mixed_precision
    assert mp.n_skipped == 1
    assert mp.scaler.get_scale() == 2.0**7
    assert torch.equal(weights.after[1], weights.after[0])  # batch 1 did not step
    assert not torch.equal(weights.after[2], weights.after[1])
    assert all(torch.isfinite(w).all() for w in weights.after)


def test_autocast_is_left_when_the_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    learn = to_bf16(make_learner())
    learn.model = nn.Sequential(Boom())
    with pytest.raises(ValueError, match="boom"):
        learn.fit(1)
    assert not torch.is_autocast_enabled("cpu")


def test_to_fp32_removes_mixed_precision_and_modes_are_checked():
    learn = to_fp16(to_bf16(make_learner()))
    assert [type(c) for c in learn.cbs].count(MixedPrecision) == 1
    assert learn.mixed_precision.amp_mode == "fp16"
    learn.fit(1)
    to_fp32(learn)
    assert not any(isinstance(c, MixedPrecision) for c in learn.cbs)
    probe = Dtypes()
    learn.fit(1, cbs=probe)
    assert set(probe.inner) == {torch.float32}
    with pytest.raises(TrainError, match="amp_mode"):
        MixedPrecision("fp8")


def test_fp16_with_gradient_accumulation_matches_the_large_batch():
    def learner(bs, cbs=()):
        torch.manual_seed(0)
        dls, _ = linear_task(n_train=64, n_valid=32, bs=bs)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        learn = Learner(dls, model, loss_func=MSELossFlat(), opt_func=SGD, lr=0.01, cbs=list(cbs))
        learn.logger = lambda *a, **k: None
        return to_fp16(learn.remove_cbs(learn.progress), init_scale=2.0**8)

    big = learner(16)
    big.fit(1)
    small = learner(4, [GradientAccumulation(n_acc=16)])
    small.fit(1)
    assert small.mixed_precision.n_skipped == big.mixed_precision.n_skipped == 0
    assert small.mixed_precision.scaler.get_scale() == big.mixed_precision.scaler.get_scale() == 2.0**8
    for p, q in zip(small.model.parameters(), big.model.parameters()):
        assert torch.allclose(p, q, rtol=1e-2, atol=1e-4)
