"""Drive any `torch.optim.Optimizer` through the library's optimizer interface.

The Learner and the schedulers speak of `lr`, `mom`, `sqr_mom`, `wd` and `eps`; torch optimizers
store `momentum` or `betas[0]`, `betas[1]` or `alpha`, `weight_decay`. `OptimWrapper` shows each
torch param group under the library's names (`opt.hypers[i]`), writing through to torch, and
adds the freezing of `OptimizerBase`. Torch names with no library counterpart (`nesterov`,
`amsgrad`, ...) are visible and settable under their own names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

import torch
from torch import Tensor

from layered.train.errors import TrainError
from layered.train.optim.optimizer import OptimizerBase, normalize_param_groups

__all__ = ["OptimWrapper"]

# library names that are set after construction when given to OptimWrapper as keyword arguments
_LIBRARY_ONLY = ("mom", "sqr_mom", "wd")


class _TorchHypers(MutableMapping):
    """One torch param group seen through the library's hyper-parameter names."""

    def __init__(self, group: dict[str, Any], opt_name: str):
        self.group, self.opt_name = group, opt_name

    def _location(self, name: str) -> tuple[str, int | None] | None:
        """Where `name` lives in the torch group: `(key, index into a tuple or None)`, or None."""
        g = self.group
        if name == "wd":
            return ("weight_decay", None) if "weight_decay" in g else None
        if name == "mom":
            return ("momentum", None) if "momentum" in g else ("betas", 0) if "betas" in g else None
        if name == "sqr_mom":
            return ("betas", 1) if "betas" in g else ("alpha", None) if "alpha" in g else None
        if name == "params" or name in ("weight_decay", "momentum", "betas", "alpha"):
            # these are reached through their library names only, so each value has one name
            return None
        return (name, None) if name in g else None

    def __getitem__(self, name: str) -> Any:
        loc = self._location(name)
        if loc is None:
            raise KeyError(name)
        key, i = loc
        return self.group[key] if i is None else self.group[key][i]

    def __setitem__(self, name: str, value: Any) -> None:
        loc = self._location(name)
        if loc is None:
            raise TrainError(f"{self.opt_name} has no hyper-parameter '{name}' (it has: {sorted(self)})")
        key, i = loc
        if i is None:
            self.group[key] = value
        else:
            values = list(self.group[key])
            values[i] = value
            self.group[key] = tuple(values)

    def __delitem__(self, name: str) -> None:
        raise TrainError(
            f"{self.opt_name}: hyper-parameters of a torch optimizer cannot be deleted ('{name}')"
        )

    def __iter__(self) -> Iterator[str]:
        renamed = {
            "weight_decay": ["wd"],
            "momentum": ["mom"],
            "betas": ["mom", "sqr_mom"],
            "alpha": ["sqr_mom"],
        }
        for key in self.group:
            if key != "params":
                yield from renamed.get(key, [key])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(dict(self))


class OptimWrapper(OptimizerBase):
    """A `torch.optim.Optimizer` with the library's interface: `hypers`, `set_hyper`, freezing.

    Either wrap a built optimizer, `OptimWrapper(torch.optim.SGD(...))`, or build one:
    `OptimWrapper(params, torch.optim.AdamW, lr=1e-3, wd=0.01)`, where `params` takes the same
    forms as `Optimizer` (tensors, lists of tensors or torch-style dicts using torch's names).
    Keyword arguments go to `opt_cls`, except the library names `mom`, `sqr_mom` and `wd`, which
    are set after construction. `train_bn` and `norm_params` work as for `Optimizer`.
    """

    def __init__(
        self,
        params_or_opt: Iterable | torch.optim.Optimizer,
        opt_cls: type[torch.optim.Optimizer] | None = None,
        train_bn: bool = True,
        norm_params: Iterable[Tensor] | None = None,
        **kwargs: Any,
    ):
        later: dict[str, Any] = {}
        if isinstance(params_or_opt, torch.optim.Optimizer):
            if opt_cls is not None or kwargs:
                raise TrainError(
                    f"OptimWrapper: got a built {type(params_or_opt).__name__}, so opt_cls and "
                    f"hyper-parameters must not be given (got opt_cls={opt_cls}, kwargs={sorted(kwargs)})"
                )
            self.opt = params_or_opt
        else:
            if opt_cls is None:
                raise TrainError("OptimWrapper: given parameters, it needs opt_cls (e.g. torch.optim.AdamW)")
            later = {k: kwargs.pop(k) for k in _LIBRARY_ONLY if k in kwargs}
            self.opt = opt_cls(normalize_param_groups(params_or_opt), **kwargs)
        name = type(self.opt).__name__
        groups = self.opt.param_groups
        super().__init__(
            [g["params"] for g in groups], [_TorchHypers(g, name) for g in groups], train_bn, norm_params
        )
        self.set_hypers(**later)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """The wrapped optimizer's own param groups (torch names)."""
        return self.opt.param_groups

    @property
    def state(self) -> Any:
        """The wrapped optimizer's per-parameter state."""
        return self.opt.state

    def step(self, closure: Any = None) -> Any:
        """One step of the wrapped optimizer."""
        return self.opt.step(closure)

    def clear_state(self) -> None:
        """Forget every parameter's state (momentum buffers, moving averages, step counts)."""
        self.opt.state.clear()

    def state_dict(self) -> dict[str, Any]:
        """The wrapped optimizer's state dict (torch format)."""
        return self.opt.state_dict()

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Load a state dict saved by `state_dict`; the hyper-parameter views follow the loaded groups."""
        self.opt.load_state_dict(sd)
        # torch replaces its group dicts when loading, so rebuild the views over the new ones
        groups = self.opt.param_groups
        self.param_lists = [g["params"] for g in groups]
        self.hypers = [_TorchHypers(g, type(self.opt).__name__) for g in groups]

    def __repr__(self) -> str:
        return f"OptimWrapper({self.opt!r})"
