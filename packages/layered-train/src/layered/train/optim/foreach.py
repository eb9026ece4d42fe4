"""The group path of `Optimizer`: each stepper's twin, run once per parameter group with `torch._foreach_*`.

A twin does for a whole list of parameters what its stepper does for one, with one
`torch._foreach_*` call per operation instead of one Python call and one kernel per tensor:
`twin(ps, grads, states, **hypers)`, where `grads[i]` is `ps[i].grad` and `states[i]` is the
state dict of `ps[i]`, which the twin updates in place (stat updates) or reads (steppers). The
tensor operations are the per-parameter ones in the same order, so both paths agree to rounding.

`foreach_twin(cb)` finds the twin of a stepper (or of a `functools.partial` of one) and
`foreach_ready(ps, grads)` says whether a group can take the path: plain dense tensors on one
device. Steppers without a twin (QHAdam's, LARC's, user functions) keep their optimizer on the
per-parameter path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from layered.train.optim.steppers import (
    _RADAM_RHO_MIN,
    adam_step,
    average_grad,
    average_sqr_grad,
    debias,
    l2_reg,
    lamb_step,
    momentum_step,
    radam_step,
    rms_prop_step,
    sgd_step,
    step_stat,
    weight_decay,
)

__all__ = [
    "adam_step_foreach",
    "average_grad_foreach",
    "average_sqr_grad_foreach",
    "foreach_ready",
    "foreach_twin",
    "l2_reg_foreach",
    "lamb_step_foreach",
    "momentum_step_foreach",
    "radam_step_foreach",
    "rms_prop_step_foreach",
    "sgd_step_foreach",
    "step_stat_foreach",
    "weight_decay_foreach",
]

States = list[dict[str, Any]]


def _zeros_state(states: States, ps: list[Tensor], name: str) -> list[Tensor]:
    """The tensors `name` of every state, each created as zeros (like its parameter) on first use."""
    for s, p in zip(states, ps):
        if s.get(name) is None:
            s[name] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return [s[name] for s in states]


def weight_decay_foreach(
    ps: list[Tensor], grads: list[Tensor], states: States, lr: float, wd: float, do_wd: bool = True, **kwargs
) -> None:
    """Twin of `weight_decay`: `p *= 1 - lr*wd` for every parameter."""
    if do_wd and wd != 0:
        torch._foreach_mul_(ps, 1 - lr * wd)


def l2_reg_foreach(
    ps: list[Tensor], grads: list[Tensor], states: States, wd: float, do_wd: bool = True, **kwargs
) -> None:
    """Twin of `l2_reg`: `grad += wd * p` for every parameter."""
    if do_wd and wd != 0:
        torch._foreach_add_(grads, ps, alpha=wd)


def average_grad_foreach(
    ps: list[Tensor], grads: list[Tensor], states: States, mom: float, dampening: bool = False, **kwargs
) -> None:
    """Twin of `average_grad`: `grad_avg = mom*grad_avg + (1-mom if dampening else 1)*grad`."""
    avgs = _zeros_state(states, ps, "grad_avg")
    torch._foreach_mul_(avgs, mom)
    torch._foreach_add_(avgs, grads, alpha=1 - mom if dampening else 1.0)


def average_sqr_grad_foreach(
    ps: list[Tensor], grads: list[Tensor], states: States, sqr_mom: float, dampening: bool = True, **kwargs
) -> None:
    """Twin of `average_sqr_grad`: `sqr_avg = sqr_mom*sqr_avg + (1-sqr_mom)*grad**2`."""
    sqrs = _zeros_state(states, ps, "sqr_avg")
    torch._foreach_mul_(sqrs, sqr_mom)
    torch._foreach_addcmul_(sqrs, grads, grads, value=1 - sqr_mom if dampening else 1.0)


def step_stat_foreach(ps: list[Tensor], grads: list[Tensor], states: States, **kwargs) -> None:
    """Twin of `step_stat`: count one more step for every parameter."""
    for s in states:
        s["step"] = s.get("step", 0) + 1


def momentum_step_foreach(ps: list[Tensor], grads: list[Tensor], states: States, lr: float, **kwargs) -> None:
    """Twin of `momentum_step`: `p -= lr * grad_avg`."""
    torch._foreach_add_(ps, [s["grad_avg"] for s in states], alpha=-lr)


def sgd_step_foreach(ps: list[Tensor], grads: list[Tensor], states: States, lr: float, **kwargs) -> None:
    """Twin of `sgd_step`: `p -= lr * grad`."""
    torch._foreach_add_(ps, grads, alpha=-lr)


def rms_prop_step_foreach(
    ps: list[Tensor], grads: list[Tensor], states: States, lr: float, eps: float, **kwargs
) -> None:
    """Twin of `rms_prop_step`: `p -= lr * g / (sqrt(sqr_avg) + eps)`."""
    g = [s.get("grad_avg", grad) for s, grad in zip(states, grads)]
    denom = torch._foreach_sqrt([s["sqr_avg"] for s in states])
    torch._foreach_add_(denom, eps)
    torch._foreach_addcdiv_(ps, g, denom, value=-lr)


def _debiased(states: States, mom: float, sqr_mom: float) -> tuple[list[float], list[float]]:
    """Each parameter's debias factors of the gradient and squared-gradient averages (steps may differ)."""
    steps = [s["step"] for s in states]
    return [debias(mom, 1 - mom, t) for t in steps], [debias(sqr_mom, 1 - sqr_mom, t) for t in steps]


def adam_step_foreach(
    ps: list[Tensor],
    grads: list[Tensor],
    states: States,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    **kwargs,
) -> None:
    """Twin of `adam_step`: `p -= lr * m_hat / (sqrt(v_hat) + eps)`."""
    debias1, debias2 = _debiased(states, mom, sqr_mom)
    denom = torch._foreach_div([s["sqr_avg"] for s in states], debias2)
    torch._foreach_sqrt_(denom)
    torch._foreach_add_(denom, eps)
    torch._foreach_addcdiv_(ps, [s["grad_avg"] for s in states], denom, [-lr / d for d in debias1])


def radam_step_foreach(
    ps: list[Tensor],
    grads: list[Tensor],
    states: States,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    beta: float = 0.0,
    **kwargs,
) -> None:
    """Twin of `radam_step`: momentum SGD for the parameters still at `rho_t <= 5`, rectified Adam for the rest."""
    debias1, debias2 = _debiased(states, mom, sqr_mom)
    rho_inf = 2 / (1 - sqr_mom) - 1
    plain, rectified = [], []
    for i, s in enumerate(states):
        t = s["step"]
        rho_t = rho_inf - 2 * t * sqr_mom**t / debias2[i]
        if rho_t <= _RADAM_RHO_MIN:
            plain.append(i)
        else:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            rectified.append((i, rect))
    # steps (so debias factors) usually agree across a group: one call per distinct factor
    for d1 in {debias1[i] for i in plain}:
        same = [i for i in plain if debias1[i] == d1]
        torch._foreach_add_([ps[i] for i in same], [states[i]["grad_avg"] for i in same], alpha=-lr / d1)
    if rectified:
        idx = [i for i, _ in rectified]
        denom = torch._foreach_sqrt([states[i]["sqr_avg"] for i in idx])
        torch._foreach_add_(denom, eps)
        torch._foreach_div_(denom, [math.sqrt(debias2[i]) for i in idx])
        if beta:
            denom = [F.softplus(d, beta=beta) for d in denom]
        scales = [-lr * rect / debias1[i] for i, rect in rectified]
        torch._foreach_addcdiv_([ps[i] for i in idx], [states[i]["grad_avg"] for i in idx], denom, scales)


def lamb_step_foreach(
    ps: list[Tensor],
    grads: list[Tensor],
    states: States,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    wd: float = 0.0,
    do_wd: bool = True,
    **kwargs,
) -> None:
    """Twin of `lamb_step`: the Adam direction plus decay, each tensor's step scaled by `||p|| / ||u||`."""
    debias1, debias2 = _debiased(states, mom, sqr_mom)
    u = torch._foreach_div([s["grad_avg"] for s in states], debias1)
    v_hat = torch._foreach_div([s["sqr_avg"] for s in states], debias2)
    torch._foreach_sqrt_(v_hat)
    torch._foreach_add_(v_hat, eps)
    torch._foreach_div_(u, v_hat)
    if do_wd and wd != 0:
        torch._foreach_add_(u, ps, alpha=wd)
    p_norms, u_norms = torch.stack(torch._foreach_norm(ps)), torch.stack(torch._foreach_norm(u))
    # a zero norm (a zero-initialised bias, a dead layer) would make the ratio 0 or inf
    trust = torch.where((p_norms > 0) & (u_norms > 0), p_norms / u_norms, 1.0)
    torch._foreach_mul_(u, list(trust.unbind()))
    torch._foreach_add_(ps, u, alpha=-lr)


_TWINS: dict[Callable, Callable] = {
    weight_decay: weight_decay_foreach,
    l2_reg: l2_reg_foreach,
    average_grad: average_grad_foreach,
    average_sqr_grad: average_sqr_grad_foreach,
    step_stat: step_stat_foreach,
    momentum_step: momentum_step_foreach,
    sgd_step: sgd_step_foreach,
    rms_prop_step: rms_prop_step_foreach,
    adam_step: adam_step_foreach,
    radam_step: radam_step_foreach,
    lamb_step: lamb_step_foreach,
}


def foreach_twin(cb: Callable) -> Callable | None:
    """The group version of stepper `cb` (a `partial` keeps its arguments), or None when it has none."""
    if isinstance(cb, partial):
        twin = _TWINS.get(cb.func)
        return None if twin is None or cb.args else partial(twin, **cb.keywords)
    return _TWINS.get(cb)


def _plain(t: Tensor) -> bool:
    return type(t) in (Tensor, torch.nn.Parameter) and t.layout == torch.strided


def foreach_ready(ps: list[Tensor], grads: list[Tensor]) -> bool:
    """Whether a group's parameters and gradients are all plain dense tensors on one device."""
    if not ps:
        return False
    device = ps[0].device
    return all(
        _plain(p) and _plain(g) and p.device == device and g.device == device for p, g in zip(ps, grads)
    )
