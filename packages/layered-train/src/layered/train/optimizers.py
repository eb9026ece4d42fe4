"""SGD, RMSProp and Adam as lists of steppers for the generic `Optimizer`.

Hyper-parameter names: `lr`, `mom` (momentum, or Adam's beta1), `sqr_mom` (Adam's beta2,
RMSProp's alpha), `eps`, `wd`. Weight decay is decoupled by default (`p *= 1 - lr*wd`, as AdamW);
`decouple_wd=False` turns it into L2 regularisation of the gradient (torch's `weight_decay`).
So `Adam` with its default `decouple_wd=True` is AdamW. Extra keyword arguments (`train_bn`,
`norm_params`, more hyper-parameters) go to `Optimizer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from layered.train.optimizer import Optimizer
from layered.train.steppers import (
    adam_step,
    average_grad,
    average_sqr_grad,
    l2_reg,
    momentum_step,
    rms_prop_step,
    sgd_step,
    step_stat,
    weight_decay,
)

__all__ = ["SGD", "Adam", "RMSProp"]


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
    mom: float = 0.0,
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
    """Adam with debiased averages; AdamW by default (`decouple_wd=True`), Adam with L2 otherwise."""
    cbs = _wd_cbs(decouple_wd)
    cbs += [partial(average_grad, dampening=True), average_sqr_grad, step_stat, adam_step]
    return Optimizer(params, cbs, lr=lr, mom=mom, sqr_mom=sqr_mom, eps=eps, wd=wd, **kwargs)
