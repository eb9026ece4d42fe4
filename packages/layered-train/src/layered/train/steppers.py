"""The building blocks of `Optimizer`: stat updates and steppers, one small function each.

`Optimizer.step` calls every block once per parameter, in order, as
`block(p, **state_of_p, **hypers_of_its_group)` under `torch.no_grad()`. A *stat update*
(`average_grad`, `average_sqr_grad`, `step_stat`) returns the state it maintains, which is merged
into the parameter's state so later blocks (and the next step) receive it by name; a *stepper*
(`sgd_step`, `adam_step`, ...) changes the parameter in place and returns None. Every block takes
`**kwargs` so it can ignore the hyper-parameters and state meant for the others.

State names: `grad_avg` (moving average of the gradient), `sqr_avg` (of its square), `step`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = [
    "adam_step",
    "average_grad",
    "average_sqr_grad",
    "debias",
    "l2_reg",
    "momentum_step",
    "rms_prop_step",
    "sgd_step",
    "step_stat",
    "weight_decay",
]


def weight_decay(p: Tensor, lr: float, wd: float, do_wd: bool = True, **kwargs: Any) -> None:
    """Decoupled weight decay (AdamW-style): shrink the weights, `p *= 1 - lr*wd`."""
    if do_wd and wd != 0:
        p.mul_(1 - lr * wd)


def l2_reg(p: Tensor, wd: float, do_wd: bool = True, **kwargs: Any) -> None:
    """L2 regularisation: add `wd * p` to the gradient, so later blocks see it (torch's `weight_decay`)."""
    if do_wd and wd != 0:
        p.grad.add_(p, alpha=wd)


def average_grad(
    p: Tensor, mom: float, dampening: bool = False, grad_avg: Tensor | None = None, **kwargs: Any
) -> dict[str, Tensor]:
    """Moving average of the gradient: `grad_avg = mom*grad_avg + (1-mom if dampening else 1)*grad`."""
    if grad_avg is None:
        grad_avg = torch.zeros_like(p)
    grad_avg.mul_(mom).add_(p.grad, alpha=1 - mom if dampening else 1.0)
    return {"grad_avg": grad_avg}


def average_sqr_grad(
    p: Tensor, sqr_mom: float, dampening: bool = True, sqr_avg: Tensor | None = None, **kwargs: Any
) -> dict[str, Tensor]:
    """Moving average of the squared gradient: `sqr_avg = sqr_mom*sqr_avg + (1-sqr_mom)*grad**2`."""
    if sqr_avg is None:
        sqr_avg = torch.zeros_like(p)
    sqr_avg.mul_(sqr_mom).addcmul_(p.grad, p.grad, value=1 - sqr_mom if dampening else 1.0)
    return {"sqr_avg": sqr_avg}


def step_stat(p: Tensor, step: int = 0, **kwargs: Any) -> dict[str, int]:
    """Count the steps taken on `p` (Adam's bias correction needs it)."""
    return {"step": step + 1}


def momentum_step(p: Tensor, lr: float, grad_avg: Tensor, **kwargs: Any) -> None:
    """SGD with momentum: move against the averaged gradient, `p -= lr * grad_avg`."""
    p.add_(grad_avg, alpha=-lr)


def sgd_step(p: Tensor, lr: float, **kwargs: Any) -> None:
    """Plain SGD: `p -= lr * grad`."""
    p.add_(p.grad, alpha=-lr)


def rms_prop_step(
    p: Tensor, lr: float, sqr_avg: Tensor, eps: float, grad_avg: Tensor | None = None, **kwargs: Any
) -> None:
    """RMSProp: `p -= lr * g / (sqrt(sqr_avg) + eps)`, with `g` the averaged gradient when there is one.

    Without momentum this is exactly `torch.optim.RMSprop`. With momentum the average is taken of
    the raw gradient (then normalised), whereas torch averages the already normalised gradient.
    """
    g = p.grad if grad_avg is None else grad_avg
    p.addcdiv_(g, sqr_avg.sqrt().add_(eps), value=-lr)


def debias(mom: float, damp: float, step: int) -> float:
    """The weight a moving average has gathered after `step` steps: `damp * (1 + mom + ... + mom**(step-1))`.

    Dividing the average by it removes the bias towards its zero start; with `damp = 1 - mom`
    this is the familiar `1 - mom**step`.
    """
    return damp * step if mom == 1 else damp * (1 - mom**step) / (1 - mom)


def adam_step(
    p: Tensor,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    step: int,
    grad_avg: Tensor,
    sqr_avg: Tensor,
    **kwargs: Any,
) -> None:
    """Adam: `p -= lr * m_hat / (sqrt(v_hat) + eps)`, with both averages debiased (as `torch.optim.Adam`).

    Expects the dampened averages: `grad_avg` from `average_grad(dampening=True)` and `sqr_avg`
    from `average_sqr_grad`, and `step` from `step_stat`.
    """
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    p.addcdiv_(grad_avg, (sqr_avg / debias2).sqrt().add_(eps), value=-lr / debias1)
