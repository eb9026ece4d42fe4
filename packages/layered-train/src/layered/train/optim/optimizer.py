"""The generic optimizer: parameter groups with their own hyper-parameters, stepped by small callbacks.

`Optimizer(params, cbs, **defaults)` owns no update rule: `step()` runs the callbacks of
`layered.train.optim.steppers` (or any function of the same shape) on every parameter that has a
gradient, merging what each returns into that parameter's state. SGD, RMSProp and Adam are a few
lines each in `layered.train.optim.algorithms`.

The group path (`foreach=True`, the default): when every callback has a twin in
`layered.train.optim.foreach` and a group's parameters are plain dense tensors on one device,
each callback runs once for the whole group with `torch._foreach_*` operations, and an algorithm
that gives a `fused` group step (Adam: one torch kernel) uses it where it fits. Otherwise, and
with `foreach=False`, the callbacks run parameter by parameter. Both paths keep the same state.

`OptimizerBase` holds what the Learner and the schedulers drive on any optimizer, this one or a
wrapped `torch.optim` one: per-group `hypers`, `set_hyper`, `zero_grad` and freezing.

Freezing and norm layers: an optimizer sees tensors, not modules, so it cannot tell a BatchNorm
weight from a convolution's. The caller (the Learner) says which parameters belong to
normalisation layers, with `mark_norm_params(params)` or the `norm_params=` argument; when
`train_bn=True`, `freeze_to` leaves those trainable in the frozen groups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from layered.train.errors import TrainError
from layered.train.optim.foreach import foreach_ready, foreach_twin
from layered.train.optim.param_groups import even_mults

__all__ = ["Optimizer", "OptimizerBase", "hyper_per_group", "normalize_param_groups"]


def normalize_param_groups(params: Iterable) -> list[dict[str, Any]]:
    """Torch-style groups `[{'params': [...], **group_hypers}]` from tensors, lists of tensors or dicts.

    `params` is an iterable of tensors (one group), an iterable of iterables of tensors (one group
    each) or an iterable of dicts with a `'params'` key and optional per-group hyper-parameters.
    """
    if isinstance(params, Tensor):
        raise TrainError(
            "params: expected an iterable of tensors (e.g. model.parameters()), got a single tensor"
        )
    items = list(params)
    if not items:
        raise TrainError("params: the optimizer got no parameters (empty iterable)")
    if all(isinstance(o, Tensor) for o in items):
        groups = [{"params": items}]
    elif all(isinstance(o, dict) for o in items):
        groups = []
        for i, g in enumerate(items):
            if "params" not in g:
                raise TrainError(f"params: group {i} is a dict without a 'params' key (keys: {sorted(g)})")
            ps = g["params"]
            groups.append({**g, "params": [ps] if isinstance(ps, Tensor) else list(ps)})
    elif not any(isinstance(o, (Tensor, dict)) for o in items):
        groups = [{"params": list(g)} for g in items]
    else:
        kinds = sorted({type(o).__name__ for o in items})
        raise TrainError(
            f"params: expected all tensors, all lists of tensors or all dicts, got a mix of {kinds}"
        )
    seen: set[int] = set()
    for i, g in enumerate(groups):
        for j, p in enumerate(g["params"]):
            if not isinstance(p, Tensor):
                raise TrainError(f"params: item {j} of group {i} is a {type(p).__name__}, expected a tensor")
            if not p.is_leaf:
                raise TrainError(
                    f"params: item {j} of group {i} is not a leaf tensor, so it cannot be optimized"
                )
            if id(p) in seen:
                raise TrainError(
                    f"params: item {j} of group {i} (shape {tuple(p.shape)}) is in more than one group"
                )
            seen.add(id(p))
    return groups


def hyper_per_group(name: str, value: Any, n_groups: int) -> list[Any]:
    """One value of hyper-parameter `name` per group.

    A scalar goes to every group; a list, tuple, array or tensor must hold one value per group;
    `slice(hi)` gives `hi/10` to all groups but the last and `slice(lo, hi)` spreads values
    geometrically from `lo` (first group) to `hi` (last).
    """
    if isinstance(value, slice):
        if value.stop is None or value.step is not None:
            raise TrainError(f"hyper '{name}': a slice needs a stop and no step, got {value}")
        if value.start is None:
            return [value.stop / 10] * (n_groups - 1) + [value.stop]
        return even_mults(value.start, value.stop, n_groups).tolist()
    if isinstance(value, (Tensor, np.ndarray)):
        value = value.tolist() if isinstance(value, np.ndarray) else value.detach().cpu().tolist()
    if not isinstance(value, (list, tuple)):
        return [value] * n_groups
    if len(value) != n_groups:
        raise TrainError(f"hyper '{name}': got {len(value)} values for {n_groups} parameter groups")
    return list(value)


class OptimizerBase:
    """Parameter groups, per-group hyper-parameters and freezing: what the Learner and schedulers use.

    Subclasses pass `param_lists` (one list of tensors per group) and `hypers` (one mutable
    mapping of hyper-parameter name to value per group) and add `step`, `state_dict`,
    `load_state_dict` and `clear_state`.
    """

    def __init__(
        self,
        param_lists: list[list[Tensor]],
        hypers: list[MutableMapping[str, Any]],
        train_bn: bool = True,
        norm_params: Iterable[Tensor] | None = None,
    ):
        self.param_lists, self.hypers, self.train_bn = param_lists, hypers, train_bn
        self._norm_ids: set[int] = set()
        self.mark_norm_params(norm_params or [])

    def set_hyper(self, name: str, value: Any) -> None:
        """Set hyper-parameter `name` in every group: a scalar, one value per group, or a slice."""
        for hyper, v in zip(self.hypers, hyper_per_group(name, value, len(self.hypers))):
            hyper[name] = v

    def set_hypers(self, **kwargs: Any) -> None:
        """`set_hyper` for each keyword argument."""
        for name, value in kwargs.items():
            self.set_hyper(name, value)

    def all_params(self, n: int | slice = slice(None), with_grad: bool = False) -> list[tuple[Tensor, Any]]:
        """`(param, hypers_of_its_group)` for the groups selected by `n` (an index or a slice).

        With `with_grad=True`, only parameters whose gradient is not None.
        """
        groups = list(zip(self.param_lists, self.hypers))[n]
        groups = [groups] if isinstance(n, int) else groups
        return [(p, h) for ps, h in groups for p in ps if not with_grad or p.grad is not None]

    def mark_norm_params(self, params: Iterable[Tensor]) -> None:
        """Record which parameters belong to normalisation layers, so freezing can keep them trainable.

        Tensors this optimizer does not hold are ignored, so all of a model's norm parameters can be
        passed even when some are left out of the optimizer.
        """
        self._norm_ids |= {id(p) for p in params}

    def freeze_to(self, n: int) -> None:
        """Make groups `n` onwards trainable and the earlier ones frozen (norm params kept if `train_bn`).

        A frozen parameter gets `requires_grad=False` and its gradient dropped, so no step moves it.
        """
        n_groups = len(self.param_lists)
        if not isinstance(n, int) or not -n_groups <= n <= n_groups:
            raise TrainError(
                f"freeze_to: n must be an int in [-{n_groups}, {n_groups}] for {n_groups} groups, got {n!r}"
            )
        for p, _ in self.all_params(slice(n, None)):
            p.requires_grad_(True)
        for p, _ in self.all_params(slice(None, n)):
            trainable = self.train_bn and id(p) in self._norm_ids
            p.requires_grad_(trainable)
            if not trainable:
                p.grad = None

    def freeze(self) -> None:
        """Freeze every group but the last (typically the head)."""
        if len(self.param_lists) < 2:
            raise TrainError(
                "freeze: needs at least 2 parameter groups so the last stays trainable, got "
                f"{len(self.param_lists)}; split the model into groups (a splitter) first"
            )
        self.freeze_to(-1)

    def unfreeze(self) -> None:
        """Make every group trainable."""
        self.freeze_to(0)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (or zero them in place with `set_to_none=False`)."""
        for p, _ in self.all_params(with_grad=True):
            if set_to_none:
                p.grad = None
            else:
                # a gradient built with create_graph=True has a history; cut it before zeroing
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()


class _GroupView(MutableMapping):
    """One group as torch shows it, `{'params': [...], **hypers}`, writing through to the hypers."""

    def __init__(self, params: list[Tensor], hypers: dict[str, Any]):
        self.params, self.hypers = params, hypers

    def __getitem__(self, key: str) -> Any:
        return self.params if key == "params" else self.hypers[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "params":
            raise TrainError("param_groups: a group's 'params' cannot be replaced; build a new optimizer")
        self.hypers[key] = value

    def __delitem__(self, key: str) -> None:
        if key == "params":
            raise TrainError("param_groups: a group's 'params' cannot be deleted")
        del self.hypers[key]

    def __iter__(self) -> Iterator[str]:
        yield "params"
        yield from self.hypers

    def __len__(self) -> int:
        return 1 + len(self.hypers)


def _copy_value(v: Any, device: torch.device | None = None) -> Any:
    if not isinstance(v, Tensor):
        return v
    v = v.detach().clone()
    return v if device is None else v.to(device)


class Optimizer(OptimizerBase):
    """An optimizer whose update rule is a list of callbacks run on each parameter in turn.

    `params`: tensors, lists of tensors (one group each) or torch-style dicts whose extra keys
    override `defaults` for that group. `cbs`: stat updates and steppers (see
    `layered.train.optim.steppers`), each called as `cb(p, **state, **hypers)` and returning a dict to
    merge into `p`'s state, or None. `defaults`: the hyper-parameters (`lr`, `mom`, `wd`, ...),
    stored per group in `self.hypers`. `train_bn` and `norm_params`: see `freeze_to`.

    `foreach` (also an attribute, switchable at any time) takes the group path where it can;
    `fused` is a group step `fused(ps, grads, states, **hypers) -> bool` doing all of `cbs` at
    once, returning False for a group it cannot take (it is used only while `cbs` is unchanged).
    """

    def __init__(
        self,
        params: Iterable,
        cbs: Iterable[Callable[..., dict[str, Any] | None]],
        train_bn: bool = True,
        norm_params: Iterable[Tensor] | None = None,
        foreach: bool = True,
        fused: Callable[..., bool] | None = None,
        **defaults: Any,
    ):
        self.cbs = list(cbs)
        self.foreach, self.fused, self._fused_cbs = foreach, fused, tuple(self.cbs)
        self._twins: tuple[tuple, list | None] = ((), None)
        for i, cb in enumerate(self.cbs):
            if not callable(cb):
                raise TrainError(f"cbs: item {i} is a {type(cb).__name__}, expected a callable stepper")
        groups = normalize_param_groups(params)
        param_lists = [g.pop("params") for g in groups]
        super().__init__(param_lists, [{**defaults, **g} for g in groups], train_bn, norm_params)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self._no_wd_ids: set[int] = set()

    @property
    def param_groups(self) -> list[_GroupView]:
        """A torch-style view of the groups: `opt.param_groups[i]['lr']` reads and writes `hypers[i]`."""
        return [_GroupView(ps, h) for ps, h in zip(self.param_lists, self.hypers)]

    def skip_wd(self, params: Iterable[Tensor]) -> None:
        """Apply no weight decay to `params` (typically norm layers and biases): steppers get `do_wd=False`.

        Tensors this optimizer does not hold are ignored.
        """
        self._no_wd_ids |= {id(p) for p in params}

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient: on the group path where it can, else callback by callback."""
        twins = self._group_twins() if self.foreach else None
        for group, hyper in zip(self.param_lists, self.hypers):
            ps = [p for p in group if p.grad is not None]
            if not ps:
                continue
            grads = [p.grad for p in ps]
            if twins is not None and foreach_ready(ps, grads):
                self._step_group(ps, grads, hyper, twins)
            else:
                self._step_params(ps, hyper)

    def _step_params(self, ps: list[Tensor], hyper: dict[str, Any]) -> None:
        for p in ps:
            state = self.state.get(p, {})
            extra = {"do_wd": False} if id(p) in self._no_wd_ids else {}
            for cb in self.cbs:
                new = cb(p, **{**state, **hyper, **extra})
                if new:
                    state.update(new)
            self.state[p] = state

    def _step_group(self, ps: list[Tensor], grads: list[Tensor], hyper: dict[str, Any], twins: list) -> None:
        # parameters without weight decay (norm layers, biases) form a second list, stepped with do_wd=False
        skip = [id(p) in self._no_wd_ids for p in ps]
        for do_wd in (True, False):
            idx = [i for i, s in enumerate(skip) if s != do_wd]
            if not idx:
                continue
            sub_ps, sub_grads = (
                ([ps[i] for i in idx], [grads[i] for i in idx]) if len(idx) < len(ps) else (ps, grads)
            )
            states = [self.state.setdefault(p, {}) for p in sub_ps]
            kwargs = hyper if do_wd else {**hyper, "do_wd": False}
            fused = self.fused if tuple(self.cbs) == self._fused_cbs else None
            if fused is not None and fused(sub_ps, sub_grads, states, **kwargs):
                continue
            for twin in twins:
                twin(sub_ps, sub_grads, states, **kwargs)

    def _group_twins(self) -> list | None:
        """The twin of every callback, or None when one has none; worked out again when `cbs` changes."""
        cbs = tuple(self.cbs)
        if self._twins[0] != cbs:
            twins = [foreach_twin(cb) for cb in cbs]
            self._twins = (cbs, None if any(t is None for t in twins) else twins)
        return self._twins[1]

    def clear_state(self) -> None:
        """Forget every parameter's state (moving averages, step counts)."""
        self.state = {}

    def state_dict(self) -> dict[str, Any]:
        """Hypers per group and each parameter's state in group order, tensors cloned.

        Private state entries (names starting with `_`, e.g. a cache of the fused path) are left out.
        """
        return {
            "hypers": [{k: _copy_value(v) for k, v in h.items()} for h in self.hypers],
            "state": [
                [
                    {k: _copy_value(v) for k, v in self.state.get(p, {}).items() if not k.startswith("_")}
                    for p in ps
                ]
                for ps in self.param_lists
            ],
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore hypers and per-parameter state saved by `state_dict` (same group layout)."""
        missing = {"hypers", "state"} - set(sd)
        if missing:
            raise TrainError(f"load_state_dict: the state dict lacks {sorted(missing)} (keys: {sorted(sd)})")
        n = len(self.param_lists)
        if len(sd["hypers"]) != n or len(sd["state"]) != n:
            raise TrainError(
                f"load_state_dict: saved {len(sd['hypers'])} hyper groups and {len(sd['state'])} state "
                f"groups, this optimizer has {n} parameter groups"
            )
        for i, (ps, saved) in enumerate(zip(self.param_lists, sd["state"])):
            if len(ps) != len(saved):
                raise TrainError(
                    f"load_state_dict: group {i} saved {len(saved)} parameters, this one has {len(ps)}"
                )
        for hyper, saved in zip(self.hypers, sd["hypers"]):
            # keep the dict objects: param_groups views and callers may hold them
            hyper.clear()
            hyper.update({k: _copy_value(v) for k, v in saved.items()})
        self.state = {
            p: {k: _copy_value(v, p.device) for k, v in st.items()}
            for ps, saved in zip(self.param_lists, sd["state"])
            for p, st in zip(ps, saved)
            if st
        }

    def __repr__(self) -> str:
        names = [
            getattr(cb, "__name__", None) or getattr(getattr(cb, "func", None), "__name__", repr(cb))
            for cb in self.cbs
        ]
        n_params = sum(len(ps) for ps in self.param_lists)
        n_groups = len(self.param_lists)
        return (
            f"Optimizer({n_groups} groups, {n_params} tensors, cbs={names}, foreach={self.foreach}, "
            f"hypers={self.hypers})"
        )
