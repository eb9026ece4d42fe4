"""Adam and AdamW in one fused torch kernel per parameter group, where torch has one for the device.

`torch._fused_adam_` / `torch._fused_adamw_` read each parameter, its gradient and both moving
averages once and write them back once; the same update as the steppers
(`weight_decay` or `l2_reg`, `average_grad(dampening=True)`, `average_sqr_grad`, `step_stat`,
`adam_step`), written out as separate operations, passes over memory about three times as often.
On a CPU, where `torch._foreach_*` runs one kernel per tensor, this kernel is what makes the
group path faster for models with large embeddings.

`fused_adam` is the `fused=` argument `Adam` gives `Optimizer`; it returns False when it cannot
take a group (no kernel for the device, mixed or non-float dtypes), and the group goes to the
`torch._foreach_*` twins instead.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from layered.train.optim.foreach import States, _zeros_state

__all__ = ["fused_adam"]

# where torch ships the fused Adam kernels
_FUSED_DEVICES = ("cpu", "cuda")
# the private state key holding a parameter's step count as a tensor on its device, with the count it
# matches: the kernel reads steps from tensors, and building them from Python numbers at every
# step would copy them to the device (a synchronisation on a GPU)
STEP_TENSOR = "_step_tensor"


def _fusable(ps: list[Tensor]) -> bool:
    dtype = ps[0].dtype
    return (
        ps[0].device.type in _FUSED_DEVICES and dtype.is_floating_point and all(p.dtype == dtype for p in ps)
    )


def _step_tensors(ps: list[Tensor], states: States) -> list[Tensor]:
    """Count one more step in every state, and return the counts as float32 tensors on the parameters' device."""
    for p, s in zip(ps, states):
        step = s.get("step", 0)
        cached = s.get(STEP_TENSOR)
        if cached is None or cached[1] != step:  # new, or stepped on the per-parameter path since
            s[STEP_TENSOR] = (torch.tensor(float(step), device=p.device), step)
    tensors = [s[STEP_TENSOR][0] for s in states]
    torch._foreach_add_(tensors, 1.0)
    for s, t in zip(states, tensors):
        s["step"] = s.get("step", 0) + 1
        s[STEP_TENSOR] = (t, s["step"])
    return tensors


def fused_adam(
    ps: list[Tensor],
    grads: list[Tensor],
    states: States,
    lr: float,
    mom: float,
    sqr_mom: float,
    eps: float,
    wd: float = 0.0,
    do_wd: bool = True,
    decouple_wd: bool = True,
    **kwargs: Any,
) -> bool:
    """One Adam (L2 decay) or AdamW (`decouple_wd`) step of a group in a single kernel; False if none fits."""
    if not hasattr(torch, "_fused_adamw_") or not _fusable(ps):
        return False
    avgs = _zeros_state(states, ps, "grad_avg")
    sqrs = _zeros_state(states, ps, "sqr_avg")
    kernel = torch._fused_adamw_ if decouple_wd else torch._fused_adam_
    kernel(
        ps,
        grads,
        avgs,
        sqrs,
        [],
        _step_tensors(ps, states),
        lr=float(lr),
        beta1=float(mom),
        beta2=float(sqr_mom),
        weight_decay=float(wd) if do_wd else 0.0,
        eps=float(eps),
        amsgrad=False,
        maximize=False,
    )
    return True
