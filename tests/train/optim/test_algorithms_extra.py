"""RAdam, QHAdam, LAMB and LARC against torch.optim or a plain-torch transcription of each paper."""

import math
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from train_tasks import class_task, mlp

from layered.core.seed import set_seed
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.metrics.classification import accuracy
from layered.train.optim.algorithms import LAMB, Adam, Larc, QHAdam, RAdam, ranger
from layered.train.optim.lookahead import Lookahead
from layered.train.optim.optimizer import Optimizer
from layered.train.optim.steppers import larc_scale_grad, radam_step

N_STEPS = 10


def _model(zero_bias=False):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    if zero_bias:  # a zero norm takes the trust-ratio fallback
        nn.init.zeros_(model[2].bias)
    return model


def _loss(model):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 4, generator=g, dtype=torch.float64)
    target = torch.randn(16, 2, generator=g, dtype=torch.float64)
    return ((model(x) - target) ** 2).mean() + model(x).abs().mean()


def _step_ours(model, opt):
    _loss(model).backward()
    opt.step()
    opt.zero_grad()


def _step_reference(model, update, states, t):
    """One step of `update(p, grad, state_of_p, t)` written in plain torch."""
    params = list(model.parameters())
    grads = torch.autograd.grad(_loss(model), params)
    with torch.no_grad():
        for i, (p, g) in enumerate(zip(params, grads)):
            update(p, g.clone(), states.setdefault(i, {}), t)


def _assert_same(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-12)


def _compare_with_reference(make_opt, update, zero_bias=False, n_steps=N_STEPS):
    """Our optimizer and the reference stay together at every step, and the weights really move."""
    ours, ref = _model(zero_bias), _model(zero_bias)
    opt, states = make_opt(ours.parameters()), {}
    for t in range(1, n_steps + 1):
        _step_ours(ours, opt)
        _step_reference(ref, update, states, t)
        _assert_same(ours, ref)
    assert not torch.allclose(ours[0].weight, _model()[0].weight, atol=1e-3)
    return opt


def _moments(s, g, b1, b2):
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    return s["m"], s["v"]


# ---- RAdam ---------------------------------------------------------------------------------


@pytest.mark.parametrize("decouple_wd", [True, False])
def test_radam_matches_torch_radam_step_by_step_through_the_sgd_phase(decouple_wd):
    ours, ref = _model(), _model()
    opt = RAdam(ours.parameters(), lr=0.01, wd=0.1, decouple_wd=decouple_wd)
    torch_opt = torch.optim.RAdam(
        ref.parameters(),
        lr=0.01,
        betas=(0.9, 0.99),
        eps=1e-5,
        weight_decay=0.1,
        decoupled_weight_decay=decouple_wd,
    )
    # with sqr_mom=0.99, rho_t is 4.96 at step 5 and 5.94 at step 6: the steps on either side of
    # the threshold differ, so a threshold of 4 instead of torch's 5 would fail here
    for _ in range(N_STEPS):
        _step_ours(ours, opt)
        _step_ours(ref, torch_opt)
        _assert_same(ours, ref)
    assert opt.state[opt.param_lists[0][0]]["step"] == N_STEPS
    assert opt.hypers[0] == {"lr": 0.01, "mom": 0.9, "sqr_mom": 0.99, "eps": 1e-5, "wd": 0.1, "beta": 0.0}


def test_radam_step_is_momentum_sgd_until_rho_exceeds_5():
    p = torch.tensor([1.0, -1.0], dtype=torch.float64)
    p.grad = torch.zeros(2, dtype=torch.float64)
    grad_avg = torch.tensor([0.2, 0.4], dtype=torch.float64)
    sqr_avg = torch.tensor([1e-4, 1e-4], dtype=torch.float64)
    hypers = dict(lr=0.1, mom=0.9, sqr_mom=0.99, eps=1e-5, grad_avg=grad_avg, sqr_avg=sqr_avg)
    radam_step(p, step=5, **hypers)
    expected = torch.tensor([1.0, -1.0], dtype=torch.float64) - 0.1 * grad_avg / (1 - 0.9**5)
    torch.testing.assert_close(p, expected, rtol=1e-12, atol=0)
    q = torch.tensor([1.0, -1.0], dtype=torch.float64)
    radam_step(q, step=6, **hypers)
    rho_inf = 2 / 0.01 - 1
    rho = rho_inf - 2 * 6 * 0.99**6 / (1 - 0.99**6)
    rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    adaptive = math.sqrt(1 - 0.99**6) / (1e-2 + 1e-5)
    expected = torch.tensor([1.0, -1.0], dtype=torch.float64) - 0.1 * rect * adaptive * grad_avg / (
        1 - 0.9**6
    )
    torch.testing.assert_close(q, expected, rtol=1e-12, atol=0)


def test_radam_beta_smooths_the_denominator_with_softplus():
    lr, b1, b2, eps, beta = 0.01, 0.9, 0.99, 1e-5, 50.0
    rho_inf = 2 / (1 - b2) - 1

    def update(p, g, s, t):
        m, v = _moments(s, g, b1, b2)
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho <= 5:
            p.sub_(lr * m / (1 - b1**t))
            return
        rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        denom = F.softplus((v.sqrt() + eps) / math.sqrt(1 - b2**t), beta=beta)
        p.sub_(lr * rect * (m / (1 - b1**t)) / denom)

    _compare_with_reference(lambda ps: RAdam(ps, lr=lr, beta=beta), update)


# ---- QHAdam --------------------------------------------------------------------------------


def _qhadam_update(lr, b1, b2, nu_1, nu_2, eps, wd):
    def update(p, g, s, t):
        p.mul_(1 - lr * wd)
        m, v = _moments(s, g, b1, b2)
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        p.sub_(lr * ((1 - nu_1) * g + nu_1 * m_hat) / (((1 - nu_2) * g * g + nu_2 * v_hat).sqrt() + eps))

    return update


def test_qhadam_matches_the_paper():
    hypers = dict(lr=0.01, mom=0.9, sqr_mom=0.99, nu_1=0.7, nu_2=0.8, eps=1e-8, wd=0.05)
    opt = _compare_with_reference(
        lambda ps: QHAdam(ps, **hypers), _qhadam_update(0.01, 0.9, 0.99, 0.7, 0.8, 1e-8, 0.05)
    )
    assert opt.hypers[0]["nu_1"] == 0.7 and opt.hypers[0]["nu_2"] == 0.8


def test_qhadam_defaults_and_unit_nus_are_adam():
    opt = _compare_with_reference(
        lambda ps: QHAdam(ps, lr=0.01), _qhadam_update(0.01, 0.999, 0.999, 0.7, 1.0, 1e-8, 0.0)
    )
    assert opt.hypers[0] == {
        "lr": 0.01,
        "mom": 0.999,
        "sqr_mom": 0.999,
        "nu_1": 0.7,
        "nu_2": 1.0,
        "eps": 1e-8,
        "wd": 0.0,
    }
    a, b = _model(), _model()
    qh, adam = (
        QHAdam(a.parameters(), lr=0.01, nu_1=1.0, mom=0.9),
        Adam(b.parameters(), lr=0.01, eps=1e-8, wd=0),
    )
    adam.set_hyper("sqr_mom", 0.999)
    for _ in range(5):
        _step_ours(a, qh)
        _step_ours(b, adam)
    _assert_same(a, b)


# ---- LAMB ----------------------------------------------------------------------------------


def _lamb_update(lr, b1, b2, eps, wd, l2):
    def update(p, g, s, t):
        if l2:
            g = g + wd * p
        m, v = _moments(s, g, b1, b2)
        u = (m / (1 - b1**t)) / ((v / (1 - b2**t)).sqrt() + eps)
        if not l2:
            u = u + wd * p
        p_norm, u_norm = p.norm().item(), u.norm().item()
        trust = p_norm / u_norm if p_norm > 0 and u_norm > 0 else 1.0
        s.setdefault("trusts", []).append(trust)
        p.sub_(lr * trust * u)

    return update


@pytest.mark.parametrize("decouple_wd", [True, False])
def test_lamb_matches_the_paper_with_a_layerwise_trust_ratio(decouple_wd):
    update = _lamb_update(0.01, 0.9, 0.99, 1e-6, 0.1, l2=not decouple_wd)
    _compare_with_reference(
        lambda ps: LAMB(ps, lr=0.01, eps=1e-6, wd=0.1, decouple_wd=decouple_wd), update, zero_bias=True
    )


def test_lamb_moves_each_tensor_by_lr_times_its_norm():
    p = nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64))
    opt = LAMB([p], lr=0.1, wd=0.01)
    p.grad = torch.tensor([1e-3, -2.0], dtype=torch.float64)
    opt.step()
    moved = (p.detach() - torch.tensor([3.0, 4.0], dtype=torch.float64)).norm().item()
    assert moved == pytest.approx(0.1 * 5.0, rel=1e-12)


# ---- LARC / LARS ---------------------------------------------------------------------------


def _larc_reference(model, lr, mom, clip, trust_coeff, eps, wd, decouple_wd, n_steps):
    """Apex's LARC in plain torch: rescale each gradient, then torch's SGD; returns which tensors were capped."""
    params = list(model.parameters())
    sgd = torch.optim.SGD(params, lr=lr, momentum=mom)
    capped = []
    for _ in range(n_steps):
        grads = torch.autograd.grad(_loss(model), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                if decouple_wd:
                    p.mul_(1 - lr * wd)
                decay = 0.0 if decouple_wd else wd
                p_norm, g_norm = p.norm().item(), g.norm().item()
                factor = 1.0
                if p_norm > 0 and g_norm > 0:
                    local_lr = trust_coeff * p_norm / (g_norm + decay * p_norm + eps)
                    factor = min(local_lr / lr, 1.0) if clip else local_lr
                    capped.append(local_lr > lr)
                p.grad = (g + decay * p) * factor
        sgd.step()
    return capped


@pytest.mark.parametrize(
    ("clip", "decouple_wd", "mom"),
    [(True, True, 0.9), (True, False, 0.9), (False, True, 0.9), (True, True, 0.0)],
)
def test_larc_matches_apex_larc_over_torch_sgd(clip, decouple_wd, mom):
    hypers = dict(lr=0.02, mom=mom, clip=clip, trust_coeff=0.02, eps=1e-8, wd=0.1, decouple_wd=decouple_wd)
    ours, ref = _model(zero_bias=True), _model(zero_bias=True)
    opt = Larc(ours.parameters(), **hypers)
    for _ in range(N_STEPS):
        _step_ours(ours, opt)
    capped = _larc_reference(ref, n_steps=N_STEPS, **hypers)
    _assert_same(ours, ref)
    assert not torch.allclose(ours[0].weight, _model()[0].weight, atol=1e-3)
    assert True in capped and False in capped  # both sides of the cap were exercised
    assert ("grad_avg" in opt.state[opt.param_lists[0][0]]) == (mom != 0)


def test_larc_scale_grad_by_hand():
    p = torch.tensor([3.0, 4.0], dtype=torch.float64)  # norm 5
    p.grad = torch.tensor([0.6, 0.8], dtype=torch.float64)  # norm 1
    larc_scale_grad(p, lr=1.0, trust_coeff=0.1, eps=0.0, clip=True, wd=0.2)
    # local lr 0.1 * 5 / (1 + 0.2 * 5) = 0.25, under the global lr 1: the gradient carries 0.25
    torch.testing.assert_close(p.grad, 0.25 * torch.tensor([0.6 + 0.6, 0.8 + 0.8], dtype=torch.float64))
    p.grad = torch.tensor([0.6, 0.8], dtype=torch.float64)
    larc_scale_grad(p, lr=0.1, trust_coeff=0.1, eps=0.0, clip=True, wd=0.2, do_wd=False)
    torch.testing.assert_close(p.grad, torch.tensor([0.6, 0.8], dtype=torch.float64))  # 0.5 capped at 0.1
    z = torch.zeros(2, dtype=torch.float64)
    z.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    larc_scale_grad(z, lr=0.1, trust_coeff=0.1, eps=0.0, clip=False)
    torch.testing.assert_close(z.grad, torch.ones(2, dtype=torch.float64))


# ---- with the Learner ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "opt_func",
    [RAdam, QHAdam, LAMB, partial(Larc, trust_coeff=0.2), ranger],
    ids=["RAdam", "QHAdam", "LAMB", "Larc", "ranger"],
)
def test_every_optimizer_trains_with_the_learner(opt_func):
    set_seed(0)
    learn = Learner(
        class_task(), mlp(), loss_func=CrossEntropyLossFlat(), metrics=accuracy, opt_func=opt_func
    )
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    loss_before, acc_before = learn.validate()
    learn.fit_one_cycle(3, 0.1)
    assert isinstance(learn.opt, (Optimizer, Lookahead))
    assert learn.recorder.moms[0] == pytest.approx(0.95)  # the schedule drives every one of them
    loss_after, acc_after = learn.validate()
    assert loss_after < 0.6 * loss_before
    assert acc_before < 0.6 and acc_after > 0.9
