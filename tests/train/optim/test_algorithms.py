"""SGD, RMSProp and Adam/AdamW match torch.optim step for step on a small model."""

import copy

import pytest
import torch
from torch import nn

from layered.train.optim.algorithms import SGD, Adam, RMSProp
from layered.train.optim.optimizer import Optimizer

N_STEPS = 10


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()


def _data():
    g = torch.Generator().manual_seed(1)
    return torch.randn(16, 4, generator=g, dtype=torch.float64), torch.randn(
        16, 2, generator=g, dtype=torch.float64
    )


def _train(model, opt, before_step=None, n_steps=N_STEPS):
    x, target = _data()
    for _ in range(n_steps):
        loss = ((model(x) - target) ** 2).mean() + model(x).abs().mean()
        loss.backward()
        if before_step is not None:
            before_step()
        opt.step()
        opt.zero_grad()
    return model


def _compare(make_ours, make_torch, before_torch_step=None):
    ours, ref = _model(), _model()
    opt = make_ours(ours.parameters())
    _train(ours, opt)
    ref_params = list(ref.parameters())
    _train(ref, make_torch(ref_params), before_torch_step and (lambda: before_torch_step(ref_params)))
    for a, b in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)
    # the run really moved the weights, so agreement is not trivial
    assert not torch.allclose(next(ours.parameters()), next(_model().parameters()))
    return opt


def _decay(params, lr, wd):
    with torch.no_grad():
        for p in params:
            p.mul_(1 - lr * wd)


def test_sgd_plain():
    opt = _compare(lambda ps: SGD(ps, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1))
    assert opt.state[opt.param_lists[0][0]] == {}  # no momentum buffer without momentum


def test_sgd_momentum():
    opt = _compare(
        lambda ps: SGD(ps, lr=0.05, mom=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)
    )
    assert "grad_avg" in opt.state[opt.param_lists[0][0]]


def test_sgd_l2_weight_decay_matches_torch_weight_decay():
    _compare(
        lambda ps: SGD(ps, lr=0.05, mom=0.9, wd=0.1, decouple_wd=False),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
    )


def test_sgd_decoupled_weight_decay_shrinks_weights_before_the_step():
    _compare(
        lambda ps: SGD(ps, lr=0.05, mom=0.9, wd=0.1),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
        before_torch_step=lambda ps: _decay(ps, 0.05, 0.1),
    )


def test_sgd_decoupled_and_l2_differ_with_momentum():
    a, b = _model(), _model()
    _train(a, SGD(a.parameters(), lr=0.05, mom=0.9, wd=0.5))
    _train(b, SGD(b.parameters(), lr=0.05, mom=0.9, wd=0.5, decouple_wd=False))
    assert not torch.allclose(a[0].weight, b[0].weight)


def test_rmsprop():
    _compare(
        lambda ps: RMSProp(ps, lr=0.01, sqr_mom=0.9, eps=1e-6),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-6),
    )


def test_rmsprop_l2_weight_decay():
    _compare(
        lambda ps: RMSProp(ps, lr=0.01, wd=0.05, decouple_wd=False),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.05),
    )


def test_rmsprop_momentum_averages_the_raw_gradient():
    model = _model()
    ref = copy.deepcopy(model)
    _train(model, RMSProp(model.parameters(), lr=0.01, mom=0.8, sqr_mom=0.9, eps=1e-6), n_steps=3)
    x, target = _data()
    avgs = {p: (torch.zeros_like(p), torch.zeros_like(p)) for p in ref.parameters()}
    for _ in range(3):
        loss = ((ref(x) - target) ** 2).mean() + ref(x).abs().mean()
        grads = torch.autograd.grad(loss, list(ref.parameters()))
        with torch.no_grad():
            for p, g in zip(ref.parameters(), grads):
                m, v = avgs[p]
                m.mul_(0.8).add_(g)
                v.mul_(0.9).add_(0.1 * g * g)
                p.sub_(0.01 * m / (v.sqrt() + 1e-6))
    for a, b in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b)


def test_adam_with_l2_matches_torch_adam():
    opt = _compare(
        lambda ps: Adam(ps, lr=0.01, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0.1, decouple_wd=False),
        lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
    )
    assert opt.state[opt.param_lists[0][0]]["step"] == N_STEPS


def test_adamw_matches_torch_adamw():
    _compare(
        lambda ps: Adam(ps, lr=0.01, wd=0.1),
        lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.1),
    )


def test_adam_per_group_hypers_match_torch_groups():
    def groups(ps):
        ps = list(ps)
        return [{"params": ps[:2], "lr": 0.02}, {"params": ps[2:]}]

    _compare(
        lambda ps: Adam(groups(ps), lr=0.005, wd=0.0),
        lambda ps: torch.optim.Adam(groups(ps), lr=0.005, betas=(0.9, 0.99), eps=1e-5),
    )


def test_constructors_set_hypers_and_forward_optimizer_arguments():
    model = _model()
    opt = Adam(model.parameters(), lr=3e-3, train_bn=False)
    assert isinstance(opt, Optimizer)
    assert opt.hypers == [{"lr": 3e-3, "mom": 0.9, "sqr_mom": 0.99, "eps": 1e-5, "wd": 0.01}]
    assert opt.train_bn is False
    assert RMSProp(model.parameters(), lr=0.1).hypers[0]["sqr_mom"] == 0.99
    assert SGD(model.parameters(), lr=0.1).hypers[0] == {"lr": 0.1, "mom": 0.0, "wd": 0.0}


def test_scheduled_lr_changes_the_step():
    a, b = _model(), _model()
    opt_a = SGD(a.parameters(), lr=0.1)
    opt_b = SGD(b.parameters(), lr=0.1)
    opt_b.set_hyper("lr", 0.0)
    _train(a, opt_a, n_steps=1)
    _train(b, opt_b, n_steps=1)
    assert torch.equal(b[0].weight, _model()[0].weight)
    assert not torch.equal(a[0].weight, _model()[0].weight)


@pytest.mark.parametrize("make", [SGD, RMSProp, Adam])
def test_lr_is_required(make):
    with pytest.raises(TypeError):
        make(_model().parameters())
