"""Lookahead: k fast steps of any optimizer, then one step of the slow weights towards them.

Zhang, Lucas, Hinton & Ba 2019, "Lookahead Optimizer: k steps forward, 1 step back". The wrapped
optimizer moves the model's (fast) weights; every `k` steps the slow weights move a fraction
`alpha` of the way to them, `slow += alpha * (fast - slow)`, and the fast weights restart from
there. The slow weights start as the weights at the first step (and again after `clear_state`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from layered.train.errors import TrainError

__all__ = ["Lookahead"]

# the wrapped optimizer's interface that Lookahead itself relies on
_NEEDED = ("param_lists", "hypers", "step", "zero_grad", "state_dict", "load_state_dict", "clear_state")


class Lookahead:
    """Wrap a layered optimizer (`Optimizer`, `OptimWrapper`) so it steps as Lookahead(opt, k, alpha).

    It keeps the wrapped optimizer's interface: any attribute Lookahead does not define itself
    (`hypers`, `set_hyper`, `zero_grad`, `freeze_to`, `param_groups`, `skip_wd`, ...) is read
    from, and written to, the wrapped optimizer, so the Learner and the schedulers drive it
    unchanged. `step`, `clear_state`, `state_dict` and `load_state_dict` add the slow weights.
    """

    _own = frozenset({"opt", "k", "alpha", "count", "slow"})

    def __init__(self, opt: Any, k: int = 6, alpha: float = 0.5):
        missing = [name for name in _NEEDED if not hasattr(opt, name)]
        if missing:
            raise TrainError(
                f"Lookahead: opt must be a layered optimizer (Optimizer, OptimWrapper), "
                f"got a {type(opt).__name__} without {missing}"
            )
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise TrainError(f"Lookahead: k (fast steps per slow step) must be an int >= 1, got {k!r}")
        if not 0 < alpha <= 1:
            raise TrainError(f"Lookahead: alpha (slow step size) must be in (0, 1], got {alpha!r}")
        self.opt, self.k, self.alpha = opt, k, alpha
        self.count = 0  # fast steps since the slow weights last moved
        self.slow: list[list[Tensor]] | None = None

    def __getattr__(self, name: str) -> Any:
        # only reached for names not found on Lookahead; the guard keeps copy/pickle from recursing
        if name.startswith("__") or name in self._own:
            raise AttributeError(name)
        return getattr(self.opt, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # settings such as `train_bn` belong to the wrapped optimizer, which acts on them
        if name in self._own:
            object.__setattr__(self, name, value)
        else:
            setattr(self.opt, name, value)

    @torch.no_grad()
    def step(self) -> None:
        """One fast step of the wrapped optimizer; every `k`-th also moves the slow weights and resets to them."""
        if self.slow is None:
            self.slow = [[p.detach().clone() for p in ps] for ps in self.opt.param_lists]
        self.opt.step()
        self.count += 1
        if self.count < self.k:
            return
        self.count = 0
        for ps, slows in zip(self.opt.param_lists, self.slow):
            for p, slow in zip(ps, slows):
                slow.add_(p - slow, alpha=self.alpha)
                p.copy_(slow)

    def clear_state(self) -> None:
        """Forget the wrapped optimizer's state and the slow weights (taken again at the next step)."""
        self.opt.clear_state()
        self.slow, self.count = None, 0

    def state_dict(self) -> dict[str, Any]:
        """The wrapped optimizer's state dict plus `k`, `alpha`, the step count and cloned slow weights."""
        slow = None if self.slow is None else [[s.clone() for s in slows] for slows in self.slow]
        return {
            "opt": self.opt.state_dict(),
            "lookahead": {"k": self.k, "alpha": self.alpha, "count": self.count, "slow": slow},
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore what `state_dict` saved (same parameter layout)."""
        if set(sd) != {"opt", "lookahead"}:
            raise TrainError(
                f"Lookahead.load_state_dict: expected keys ['lookahead', 'opt'] (a Lookahead state "
                f"dict), got {sorted(sd)}"
            )
        own, slow = sd["lookahead"], sd["lookahead"]["slow"]
        if slow is not None:
            self._check_layout(slow)
            slow = [
                [s.detach().clone().to(p.device) for s, p in zip(slows, ps)]
                for slows, ps in zip(slow, self.opt.param_lists)
            ]
        self.opt.load_state_dict(sd["opt"])
        self.k, self.alpha, self.count, self.slow = own["k"], own["alpha"], own["count"], slow

    def _check_layout(self, slow: list[list[Tensor]]) -> None:
        groups = self.opt.param_lists
        if len(slow) != len(groups):
            raise TrainError(
                f"Lookahead.load_state_dict: saved slow weights for {len(slow)} groups, "
                f"this optimizer has {len(groups)}"
            )
        for i, (slows, ps) in enumerate(zip(slow, groups)):
            if len(slows) != len(ps):
                raise TrainError(
                    f"Lookahead.load_state_dict: group {i} saved {len(slows)} slow weights, this one has "
                    f"{len(ps)} parameters"
                )
            for j, (s, p) in enumerate(zip(slows, ps)):
                if s.shape != p.shape:
                    raise TrainError(
                        f"Lookahead.load_state_dict: slow weight {j} of group {i} has shape "
                        f"{tuple(s.shape)}, its parameter {tuple(p.shape)}"
                    )

    def __repr__(self) -> str:
        return f"Lookahead(k={self.k}, alpha={self.alpha}, {self.opt!r})"
