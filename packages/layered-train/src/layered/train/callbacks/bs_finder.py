"""The batch-size finder: train a few batches at each power-of-two batch size until memory or speed says stop.

`learn.bs_find()` doubles the training batch size from `start_bs`, running `num_it` training
steps at each (the first one not timed: it warms caches and allocators). It stops when a size
runs out of memory (CUDA's out-of-memory error, caught; on other devices, when the memory the
step needs passes `max_memory`), when the time per sample stops improving (by `min_gain`,
`patience` sizes in a row), or at `max_bs` / the size of the training set. The learner comes back
exactly as it was, as after `lr_find`: weights, optimizer state, random generators, training
loader and callbacks.

Memory per step: on CUDA, the peak allocated by the step; elsewhere, an estimate: the bytes of the
parameters, their gradients and the optimizer state, plus every tensor the forward pass saves for
the backward one (what grows with the batch).
"""

from __future__ import annotations

import copy
import os
import random
import time
from typing import Any, NamedTuple

import numpy as np
import torch

from layered.train.callback import Callback, CancelFitException, CancelValidException
from layered.train.errors import TrainError

__all__ = ["BSFinder", "SuggestedBS", "bs_find", "plot_bs"]


class SuggestedBS(NamedTuple):
    """What `Learner.bs_find` found: the suggested batch size and one row per size tried."""

    bs: int
    results: list[dict]


def _tensor_bytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _state_bytes(learn: Any) -> int:
    """Parameters, gradients and optimizer state, in bytes."""
    params = list(learn.model.parameters())
    total = sum(_tensor_bytes(p) for p in params) + sum(_tensor_bytes(p) for p in params if p.requires_grad)
    state = learn.opt.state_dict().get("state", {}) if learn.opt is not None else {}
    stack = [state]
    while stack:
        o = stack.pop()
        if isinstance(o, torch.Tensor):
            total += _tensor_bytes(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
    return total


def _default_cap() -> int | None:
    """Half the machine's physical memory, where the system says (POSIX); None elsewhere."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):
        return None


class BSFinder(Callback):
    """Time `num_it` training steps of the fit it joins (the first untimed), measure their memory, then end the fit."""

    order = 55
    run_valid = False

    def __init__(self, num_it: int):
        self.num_it = num_it
        self._hooks = None

    def before_fit(self):
        self.times, self.saved, self.samples, self.steps = [], 0, 0, 0
        cuda = self.learn.device.type == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats(self.learn.device)
        self._cuda = cuda

    def before_batch(self):
        if self._cuda:
            torch.cuda.synchronize(self.learn.device)
        self._start = time.perf_counter()
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda t: t)
        self._hooks.__enter__()
        self._saved_now = 0

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        self._saved_now += _tensor_bytes(t)
        return t

    def release(self) -> None:
        """Stop counting saved tensors (the hooks are global to autograd: never leave them behind)."""
        if self._hooks is not None:
            self._hooks.__exit__(None, None, None)
            self._hooks = None

    def after_loss(self):
        self.release()
        self.saved = max(self.saved, self._saved_now)

    def after_batch(self):
        self.release()  # if the batch was cancelled before its loss
        if self._cuda:
            torch.cuda.synchronize(self.learn.device)
        self.steps += 1
        if self.steps > 1:  # the first step warms up
            self.times.append(time.perf_counter() - self._start)
            self.samples += len(self.learn.yb[0]) if self.learn.yb else len(self.learn.xb[0])
        if self.steps >= self.num_it:
            raise CancelFitException()

    def before_validate(self):
        raise CancelValidException()

    def after_fit(self):
        # the bytes the steps needed: CUDA's peak, else parameters, gradients, optimizer state and saved activations
        if self._cuda:
            self.memory = int(torch.cuda.max_memory_allocated(self.learn.device))
        else:
            self.memory = _state_bytes(self.learn) + self.saved


def _try_size(learn: Any, bs: int, num_it: int) -> tuple[str, float | None, int | None]:
    """Train `num_it` steps at batch size `bs`: (status, seconds per sample, bytes); status "ok" or why not."""
    probe = BSFinder(num_it)
    dl = learn.dls.loaders[0] = learn.dls.loaders[0].new(bs=bs, shuffle=True, drop_last=True)
    if not len(dl):
        return "more than an epoch's items", None, None
    try:
        with learn.no_logging():
            learn.fit(-(-num_it // len(dl)), cbs=probe)  # epochs enough for num_it steps
    except torch.OutOfMemoryError:
        learn.opt.zero_grad()
        torch.cuda.empty_cache()
        return "out of memory", None, None
    finally:
        probe.release()
    return "ok", sum(probe.times) / probe.samples, probe.memory


def bs_find(
    learn: Any,
    start_bs: int = 8,
    max_bs: int | None = None,
    num_it: int = 4,
    max_memory: int | None = None,
    min_gain: float = 0.05,
    patience: int = 1,
    show_plot: bool = True,
) -> SuggestedBS:
    """Find a batch size: the smallest power of two whose time per sample is within `min_gain` of the best one measured."""
    dls = learn.dls
    train = getattr(dls, "loaders", [None])[0]
    if train is None or not hasattr(train, "new") or train.n is None:
        raise TrainError("bs_find needs layered DataLoaders (a training loader with new() and a known size)")
    if not isinstance(start_bs, int) or start_bs < 1 or num_it < 2:
        raise TrainError(
            f"bs_find: start_bs must be a positive integer and num_it >= 2, got {start_bs!r}, {num_it!r}"
        )
    learn._ensure_opt()
    learn.model.to(learn.device)
    if max_memory is None and learn.device.type != "cuda":
        max_memory = _default_cap()
    limit = min(max_bs or train.n, train.n)
    saved = {
        "model": copy.deepcopy(learn.model.state_dict()),
        "opt": copy.deepcopy(learn.opt.state_dict()),
        "rng": (random.getstate(), np.random.get_state(), torch.get_rng_state()),
        "counters": (learn.epoch, learn.n_epoch, learn.train_iter, learn.pct_train, learn.training),
        "cbs": list(learn.cbs),
    }
    results, best, worse = [], float("inf"), 0
    try:
        bs = start_bs
        while bs <= limit:
            status, per_sample, memory = _try_size(learn, bs, num_it)
            if status == "ok" and max_memory is not None and memory > max_memory:
                status = "memory cap"
            results.append({"bs": bs, "sec_per_sample": per_sample, "memory": memory, "status": status})
            if status != "ok":
                break
            worse = worse + 1 if per_sample > best * (1 - min_gain) else 0
            best = min(best, per_sample)
            if worse >= patience:
                break
            bs *= 2
    finally:
        dls.loaders[0] = train
        learn.model.load_state_dict(saved["model"])
        learn.opt.load_state_dict(saved["opt"])
        learn.opt.zero_grad()
        py, npy, th = saved["rng"]
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(th)
        learn.epoch, learn.n_epoch, learn.train_iter, learn.pct_train, learn.training = saved["counters"]
        if learn.cbs != saved["cbs"]:
            learn.remove_cbs([c for c in learn.cbs if c not in saved["cbs"]])
    ok = [r for r in results if r["status"] == "ok"]
    if not ok:
        first = (
            results[0]["status"] if results else f"start_bs {start_bs} is more than the {limit} items allowed"
        )
        raise TrainError(f"bs_find: no batch size could be measured ({first}); try a smaller start_bs")
    fastest = min(r["sec_per_sample"] for r in ok)
    suggestion = next(r["bs"] for r in ok if r["sec_per_sample"] <= fastest * (1 + min_gain))
    found = SuggestedBS(suggestion, results)
    learn.bs_finder = found
    if show_plot:
        plot_bs(found)
    return found


def plot_bs(found: SuggestedBS) -> Any:
    """Plot time per sample against batch size (log scale), marking the suggestion; returns the axes."""
    import matplotlib.pyplot as plt

    ok = [r for r in found.results if r["status"] == "ok"]
    _, ax = plt.subplots()
    ax.plot([r["bs"] for r in ok], [r["sec_per_sample"] * 1e6 for r in ok], marker="o")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("µs per sample")
    ax.axvline(found.bs, linestyle="--", alpha=0.6, label=f"suggested: {found.bs}")
    ax.legend()
    return ax
