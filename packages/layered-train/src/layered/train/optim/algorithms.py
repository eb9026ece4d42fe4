"""SGD, RMSProp, Adam, RAdam, QHAdam, LAMB, LARC and ranger as lists of steppers for `Optimizer`.

Hyper-parameter names: `lr`, `mom` (momentum, or Adam's beta1), `sqr_mom` (Adam's beta2,
RMSProp's alpha), `eps`, `wd`. Weight decay is decoupled by default (`p *= 1 - lr*wd`, as AdamW);
`decouple_wd=False` turns it into L2 regularisation of the gradient (torch's `weight_decay`).
So `Adam` with its default `decouple_wd=True` is AdamW. Extra keyword arguments (`train_bn`,
`norm_params`, `foreach`, more hyper-parameters) go to `Optimizer`. LAMB and LARC fold the decay into their
trust ratio as their papers do, so `decouple_wd` picks between that and L2 in the gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from layered.train.optim.fused import fused_adam
from layered.train.optim.lookahead import Lookahead
from layered.train.optim.optimizer import Optimizer
from layered.train.optim.steppers import (
    adam_step,
    average_grad,
    average_sqr_grad,
    l2_reg,
    lamb_step,
    larc_scale_grad,
    momentum_step,
    qhadam_step,
    radam_step,
    rms_prop_step,
    sgd_step,
    step_stat,
    weight_decay,
)

__all__ = ["LAMB", "SGD", "Adam", "Larc", "QHAdam", "RAdam", "RMSProp", "ranger"]


def _wd_cbs(decouple_wd: bool) -> list[Callable]:
    # the whole difference between AdamW and Adam with L2 (likewise for SGD and RMSProp)
    return [weight_decay] if decouple_wd else [l2_reg]


def SGD(
    params: Iterable, lr: float, mom: float = 0.0, wd: float = 0.0, decouple_wd: bool = True, **kwargs: Any
) -> Optimizer:
    """Stochastic gradient descent, with momentum when `mom > 0` (torch's SGD with `dampening=0`).

    The stepper list is chosen here: an optimizer built with `mom=0` keeps no momentum buffer and
    ignores a `mom` set later by a schedule.
    """
    cbs = _wd_cbs(decouple_wd)
    cbs += [average_grad, momentum_step] if mom != 0 else [sgd_step]
    return Optimizer(params, cbs, lr=lr, mom=mom, wd=wd, **kwargs)


def RMSProp(
    params: Iterable,
    lr: float,
    sqr_mom: float = 0.99,
    mom: float = 0.0,  # 0: plain RMSProp; above, the gradient is averaged too
    eps: float = 1e-8,
    wd: float = 0.0,
    decouple_wd: bool = True,
    **kwargs: Any,
) -> Optimizer:
    """RMSProp: divide the (averaged, if `mom > 0`) gradient by the root of the squared-gradient average."""
    cbs = _wd_cbs(decouple_wd)
    cbs += [average_grad, average_sqr_grad] if mom != 0 else [average_sqr_grad]
    cbs.append(rms_prop_step)
    return Optimizer(params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, **kwargs)


def Adam(
    params: Iterable,
    lr: float,
    mom: float = 0.9,
    sqr_mom: float = 0.99,
    eps: float = 1e-5,
    wd: float = 0.01,
    decouple_wd: bool = True,
    **kwargs: Any,
) -> Optimizer:
    """Adam with debiased averages; AdamW by default (`decouple_wd=True`), Adam with L2 otherwise.

    On the group path (`foreach=True`, the default) a group on a CPU or CUDA device steps in one
    fused torch kernel (`layered.train.optim.fused`).
    """
    cbs = _wd_cbs(decouple_wd)
    cbs += [partial(average_grad, dampening=True), average_sqr_grad, step_stat, adam_step]
    fused = partial(fused_adam, decouple_wd=decouple_wd)
    return Optimizer(params, cbs, fused=fused, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, **kwargs)


def RAdam(
    params: Iterable,
    lr: float,
    mom: float = 0.9,
    sqr_mom: float = 0.99,
    eps: float = 1e-5,
    wd: float = 0.0,
    beta: float = 0.0,
    decouple_wd: bool = True,
    **kwargs: Any,
) -> Optimizer:
    """Rectified Adam (Liu et al. 2020); momentum SGD for the first steps, while `rho_t <= 5`.

    Steps as `torch.optim.RAdam` (with `decoupled_weight_decay=decouple_wd`); `beta > 0` smooths
    the denominator with a softplus (SAdam), see `radam_step`.
    """
    cbs = _wd_cbs(decouple_wd)
    cbs += [partial(average_grad, dampening=True), average_sqr_grad, step_stat, radam_step]
    return Optimizer(params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, beta=beta, **kwargs)


def QHAdam(
    params: Iterable,
    lr: float,
    mom: float = 0.999,
    sqr_mom: float = 0.999,
    nu_1: float = 0.7,
    nu_2: float = 1.0,
    eps: float = 1e-8,
    wd: float = 0.0,
    decouple_wd: bool = True,
    **kwargs: Any,
) -> Optimizer:
    """Quasi-hyperbolic Adam (Ma & Yarats 2019): Adam's averages mixed with the raw gradient, see `qhadam_step`."""
    cbs = _wd_cbs(decouple_wd)
    cbs += [partial(average_grad, dampening=True), average_sqr_grad, step_stat, qhadam_step]
    return Optimizer(
        params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, nu_1=nu_1, nu_2=nu_2, eps=eps, wd=wd, **kwargs
    )


def LAMB(
    params: Iterable,
    lr: float,
    mom: float = 0.9,
    sqr_mom: float = 0.99,
    eps: float = 1e-5,
    wd: float = 0.0,
    decouple_wd: bool = True,
    **kwargs: Any,
) -> Optimizer:
    """LAMB (You et al. 2020): Adam steps rescaled per tensor by a trust ratio, see `lamb_step`.

    `decouple_wd=True` adds `wd * p` to the Adam direction inside the trust ratio (the paper);
    `False` adds it to the gradient instead (L2), before the averages.
    """
    # with L2 the decay is already in the gradient, so the step must not add it again
    cbs = [] if decouple_wd else [l2_reg]
    step = lamb_step if decouple_wd else partial(lamb_step, do_wd=False)
    cbs += [partial(average_grad, dampening=True), average_sqr_grad, step_stat, step]
    return Optimizer(params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, **kwargs)


def Larc(
    params: Iterable,
    lr: float,
    mom: float = 0.9,
    clip: bool = True,
    trust_coeff: float = 0.02,
    eps: float = 1e-8,
    wd: float = 0.0,
    decouple_wd: bool = True,
    **kwargs: Any,
) -> Optimizer:
    """LARS / LARC (You et al. 2017; NVIDIA apex): SGD with momentum at a per-tensor lr, see `larc_scale_grad`.

    `clip=True` (LARC) caps each tensor's lr at `lr`; `clip=False` (LARS) multiplies `lr` by the ratio.
    `decouple_wd=True` shrinks the weights first (`p *= 1 - lr*wd`) and leaves decay out of the
    ratio; `False` puts `wd` in the ratio and the gradient, as the LARS paper does.
    """
    cbs = [weight_decay, partial(larc_scale_grad, do_wd=False)] if decouple_wd else [larc_scale_grad]
    cbs += [average_grad, momentum_step] if mom != 0 else [sgd_step]
    return Optimizer(
        params, cbs, lr=lr, mom=mom, clip=clip, trust_coeff=trust_coeff, eps=eps, wd=wd, **kwargs
    )


def ranger(
    params: Iterable,
    lr: float,
    mom: float = 0.95,
    sqr_mom: float = 0.99,
    eps: float = 1e-6,
    wd: float = 0.01,
    beta: float = 0.0,
    decouple_wd: bool = True,
    k: int = 6,
    alpha: float = 0.5,
    **kwargs: Any,
) -> Lookahead:
    """Ranger: `Lookahead(RAdam(...), k, alpha)`; other keyword arguments go to `RAdam`."""
    opt = RAdam(
        params, lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, beta=beta, decouple_wd=decouple_wd, **kwargs
    )
    return Lookahead(opt, k=k, alpha=alpha)
