"""The stat updates and steppers, each on a tiny tensor with hand-computed results."""

import math
from functools import partial

import pytest
import torch

from layered.train.optim.steppers import (
    adam_step,
    average_grad,
    average_sqr_grad,
    debias,
    l2_reg,
    momentum_step,
    rms_prop_step,
    sgd_step,
    step_stat,
    weight_decay,
)


def _param(values, grad):
    p = torch.tensor(values, dtype=torch.float64)
    p.grad = torch.tensor(grad, dtype=torch.float64)
    return p


def _close(a, b):
    torch.testing.assert_close(a, torch.tensor(b, dtype=torch.float64))


def test_weight_decay_shrinks_weights_and_honours_do_wd():
    p = _param([1.0, -2.0], [0.5, 0.5])
    assert weight_decay(p, lr=0.1, wd=0.5) is None
    _close(p, [0.95, -1.9])
    weight_decay(p, lr=0.1, wd=0.5, do_wd=False)
    _close(p, [0.95, -1.9])
    weight_decay(p, lr=0.1, wd=0.0, mom=0.9)  # unrelated hypers are ignored
    _close(p, [0.95, -1.9])
    _close(p.grad, [0.5, 0.5])


def test_l2_reg_adds_to_the_gradient():
    p = _param([1.0, -2.0], [0.5, 0.5])
    l2_reg(p, wd=0.1)
    _close(p.grad, [0.6, 0.3])
    _close(p, [1.0, -2.0])
    l2_reg(p, wd=0.1, do_wd=False)
    _close(p.grad, [0.6, 0.3])


def test_average_grad_with_and_without_dampening():
    p = _param([0.0, 0.0], [1.0, 2.0])
    state = average_grad(p, mom=0.9)
    _close(state["grad_avg"], [1.0, 2.0])
    p.grad = torch.tensor([3.0, 0.0], dtype=torch.float64)
    state = average_grad(p, mom=0.9, **state)
    _close(state["grad_avg"], [0.9 + 3.0, 1.8])
    damped = average_grad(p, mom=0.9, dampening=True)
    _close(damped["grad_avg"], [0.3, 0.0])
    # the gradient itself is never modified
    _close(p.grad, [3.0, 0.0])


def test_average_sqr_grad_is_dampened_by_default():
    p = _param([0.0], [2.0])
    state = average_sqr_grad(p, sqr_mom=0.99)
    _close(state["sqr_avg"], [0.04])
    state = average_sqr_grad(p, sqr_mom=0.99, **state)
    _close(state["sqr_avg"], [0.99 * 0.04 + 0.04])
    _close(average_sqr_grad(p, sqr_mom=0.5, dampening=False)["sqr_avg"], [4.0])


def test_step_stat_counts():
    p = _param([0.0], [1.0])
    state = step_stat(p)
    assert state == {"step": 1}
    assert step_stat(p, **state) == {"step": 2}


def test_sgd_and_momentum_steps():
    p = _param([1.0, 1.0], [0.5, -1.0])
    sgd_step(p, lr=0.1)
    _close(p, [0.95, 1.1])
    momentum_step(p, lr=0.1, grad_avg=torch.tensor([1.0, 2.0], dtype=torch.float64))
    _close(p, [0.85, 0.9])


def test_rms_prop_step_uses_grad_avg_when_given():
    p = _param([1.0], [2.0])
    rms_prop_step(p, lr=0.1, sqr_avg=torch.tensor([4.0], dtype=torch.float64), eps=0.0)
    _close(p, [0.9])
    rms_prop_step(
        p,
        lr=0.1,
        sqr_avg=torch.tensor([4.0], dtype=torch.float64),
        eps=1.0,
        grad_avg=torch.tensor([6.0], dtype=torch.float64),
    )
    _close(p, [0.7])


def test_debias():
    assert debias(0.9, 0.1, 1) == pytest.approx(0.1)
    assert debias(0.9, 0.1, 3) == pytest.approx(1 - 0.9**3)
    assert debias(0.5, 1.0, 3) == pytest.approx(1 + 0.5 + 0.25)
    assert debias(1.0, 1.0, 4) == 4
    assert debias(0.0, 1.0, 7) == 1


def test_adam_first_step_moves_by_about_lr():
    # after one step the debiased averages are g and g**2, so the step is lr * g / (|g| + eps)
    p = _param([1.0, 1.0], [0.5, -3.0])
    state = {}
    for cb in (partial(average_grad, dampening=True), average_sqr_grad, step_stat):
        state.update(cb(p, mom=0.9, sqr_mom=0.99, **state))
    assert state["step"] == 1
    adam_step(p, lr=0.1, mom=0.9, sqr_mom=0.99, eps=1e-8, **state)
    expected = [1 - 0.1 * 0.5 / (0.5 + 1e-8), 1 + 0.1 * 3.0 / (3.0 + 1e-8)]
    _close(p, expected)
    assert not math.isclose(p[0].item(), 1.0)
