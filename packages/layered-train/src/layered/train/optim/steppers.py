"""The building blocks of `Optimizer`: stat updates and steppers, one small function each.

`Optimizer.step` calls every block once per parameter, in order, as
`block(p, **state_of_p, **hypers_of_its_group)` under `torch.no_grad()`. A *stat update*
(`average_grad`, `average_sqr_grad`, `step_stat`) returns the state it maintains, which is merged
into the parameter's state so later blocks (and the next step) receive it by name; a *stepper*
(`sgd_step`, `adam_step`, ...) changes the parameter in place and returns None. Every block takes
`**kwargs` so it can ignore the hyper-parameters and state meant for the others.

State names: `grad_avg` (moving average of the gradient), `sqr_avg` (of its square), `step`.

Besides SGD, RMSProp and Adam, the steppers of RAdam (`radam_step`), QHAdam (`qhadam_step`),
LAMB (`lamb_step`) and LARS/LARC (`larc_scale_grad`, which rescales the gradient ahead of a
momentum step) live here; `layered.train.optim.algorithms` assembles them.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "adam_step",
    "average_grad",
    "average_sqr_grad",
    "debias",
    "l2_reg",
    "lamb_step",
    "larc_scale_grad",
    "momentum_step",
    "qhadam_step",
    "radam_step",
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


# torch.optim.RAdam's threshold: rectify only when rho_t > 5 (the paper's text says rho_t > 4; the
# rectification term is 0 at 4 and still tiny and noisy just above it)
_RADAM_RHO_MIN = 5.0


def radam_step(
    p: Tensor,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    step: int,
    grad_avg: Tensor,
    sqr_avg: Tensor,
    beta: float = 0.0,
    **kwargs: Any,
) -> None:
    """RAdam: Adam with a rectified adaptive lr, and momentum SGD while the variance is intractable.

    Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond", Algorithm 2:
    `rho_t = rho_inf - 2 t sqr_mom**t / (1 - sqr_mom**t)`; while `rho_t <= 5` (torch's threshold)
    `p -= lr * m_hat`, afterwards `p -= lr * r_t * m_hat * l_t` with the rectification `r_t` and
    the adaptive lr `l_t = sqrt(1 - sqr_mom**t) / (sqrt(sqr_avg) + eps)` (eps placed as in torch).
    `beta > 0` passes the denominator through `softplus(., beta)` (SAdam: Tong et al. 2019,
    "Calibrating the Adaptive Learning Rate to Improve Convergence of ADAM").
    """
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    rho_inf = 2 / (1 - sqr_mom) - 1
    rho_t = rho_inf - 2 * step * sqr_mom**step / debias2
    if rho_t <= _RADAM_RHO_MIN:
        p.add_(grad_avg, alpha=-lr / debias1)
        return
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    denom = sqr_avg.sqrt().add_(eps).div_(math.sqrt(debias2))
    if beta:
        denom = F.softplus(denom, beta=beta)
    p.addcdiv_(grad_avg, denom, value=-lr * rect / debias1)


def qhadam_step(
    p: Tensor,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    nu_1: float,
    nu_2: float,
    step: int,
    grad_avg: Tensor,
    sqr_avg: Tensor,
    **kwargs: Any,
) -> None:
    """QHAdam: each debiased average mixed with the current gradient (`nu_1`, `nu_2`: weight of the average).

    Ma & Yarats 2019, "Quasi-hyperbolic momentum and Adam for deep learning", Algorithm 1:
    `p -= lr * ((1-nu_1) g + nu_1 m_hat) / (sqrt((1-nu_2) g**2 + nu_2 v_hat) + eps)`.
    `nu_1 = nu_2 = 1` is Adam.
    """
    m_hat = grad_avg / debias(mom, 1 - mom, step)
    v_hat = sqr_avg / debias(sqr_mom, 1 - sqr_mom, step)
    num = m_hat.mul_(nu_1).add_(p.grad, alpha=1 - nu_1)
    denom = v_hat.mul_(nu_2).addcmul_(p.grad, p.grad, value=1 - nu_2).sqrt_().add_(eps)
    p.addcdiv_(num, denom, value=-lr)


def lamb_step(
    p: Tensor,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    step: int,
    grad_avg: Tensor,
    sqr_avg: Tensor,
    wd: float = 0.0,
    do_wd: bool = True,
    **kwargs: Any,
) -> None:
    """LAMB: the Adam direction plus weight decay, rescaled per tensor by the trust ratio `||p|| / ||u||`.

    You et al. 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes",
    Algorithm 2 with the identity for phi: `u = m_hat / (sqrt(v_hat) + eps) + wd * p`, then
    `p -= lr * ||p|| / ||u|| * u`, so each tensor moves by `lr * ||p||`; the ratio is 1 when
    either norm is 0. With `do_wd=False` no decay enters `u`.
    """
    debias1 = debias(mom, 1 - mom, step)
    debias2 = debias(sqr_mom, 1 - sqr_mom, step)
    u = (grad_avg / debias1).div_((sqr_avg / debias2).sqrt_().add_(eps))
    if do_wd and wd != 0:
        u.add_(p, alpha=wd)
    p_norm, u_norm = p.norm(), u.norm()
    # a zero norm (a zero-initialised bias, a dead layer) would make the ratio 0 or inf
    trust = torch.where((p_norm > 0) & (u_norm > 0), p_norm / u_norm, 1.0)
    p.addcmul_(u, trust, value=-lr)


def larc_scale_grad(
    p: Tensor,
    lr: float,
    trust_coeff: float,
    eps: float,
    clip: bool = True,
    wd: float = 0.0,
    do_wd: bool = True,
    **kwargs: Any,
) -> None:
    """LARS/LARC: scale `grad + wd * p` by the tensor's trust ratio, ahead of a momentum or SGD step.

    You et al. 2017, "Large Batch Training of Convolutional Networks" (LARS): the trust ratio is
    `t = trust_coeff * ||p|| / (||grad|| + wd * ||p|| + eps)`. LARC (NVIDIA apex) steps this tensor
    at `lr * t` (`clip=False`) or at `min(t, lr)` (`clip=True`); the step after multiplies by `lr`,
    so the gradient is scaled by `t` or `min(t / lr, 1)`. A zero weight or gradient norm keeps the
    global lr. With `do_wd=False` no decay enters the gradient or the ratio.
    """
    wd = wd if do_wd else 0.0
    p_norm, g_norm = p.norm(), p.grad.norm()
    trust = trust_coeff * p_norm / (g_norm + wd * p_norm + eps)
    scale = (trust / lr).clamp(max=1.0) if clip else trust
    scale = torch.where((p_norm > 0) & (g_norm > 0), scale, 1.0)
    if wd != 0:
        p.grad.add_(p, alpha=wd)
    p.grad.mul_(scale)
