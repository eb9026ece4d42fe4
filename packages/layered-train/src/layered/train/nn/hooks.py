"""Hooks: read what modules compute (forward outputs or gradients) without changing the model.

`Hook`/`Hooks` wrap torch's module hooks, keep the latest result of a function of the module's
inputs and outputs in `.stored`, and remove themselves on leaving a `with` block.
`model_sizes` and `num_features_model` run a dummy batch through a model to learn its shapes.
`HookCallback` hooks modules during `fit`; `ActivationStats` uses it to record the mean, standard
deviation and near-zero fraction of every layer's activations at every training batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import nn

from layered.core.device import to_cpu, to_detach
from layered.train.callback import Callback
from layered.train.errors import TrainError

__all__ = [
    "ActivationStats",
    "Hook",
    "HookCallback",
    "Hooks",
    "dummy_eval",
    "hook_output",
    "hook_outputs",
    "model_sizes",
    "num_features_model",
]


class Hook:
    """Call `hook_func(module, input, output)` at each forward (or backward) pass; keep its result in `.stored`.

    A backward hook receives `(module, grad_input, grad_output)`. With `detach` the function sees
    tensors detached from the graph (moved to the CPU with `cpu`), so storing them keeps no graph
    alive. Use as a context manager, or call `remove()` when done.
    """

    def __init__(
        self,
        module: nn.Module,
        hook_func: Callable,
        is_forward: bool = True,
        detach: bool = True,
        cpu: bool = False,
    ):
        self.hook_func, self.detach, self.cpu = hook_func, detach, cpu
        self.stored: Any = None
        register = module.register_forward_hook if is_forward else module.register_full_backward_hook
        self._handle = register(self._call)
        self.removed = False

    def _call(self, module: nn.Module, inp, out) -> None:
        if self.detach:
            inp, out = to_detach(inp, cpu=self.cpu), to_detach(out, cpu=self.cpu)
        elif self.cpu:
            inp, out = to_cpu(inp), to_cpu(out)
        self.stored = self.hook_func(module, inp, out)

    def remove(self) -> None:
        """Unregister the hook (safe to call twice)."""
        if not self.removed:
            self._handle.remove()
            self.removed = True

    def __enter__(self) -> Hook:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Hooks:
    """One `Hook` with the same function on each of `modules`; `.stored` lists their results in order."""

    def __init__(
        self,
        modules: Iterable[nn.Module],
        hook_func: Callable,
        is_forward: bool = True,
        detach: bool = True,
        cpu: bool = False,
    ):
        self.hooks = [Hook(m, hook_func, is_forward, detach, cpu) for m in modules]

    @property
    def stored(self) -> list:
        """What each hook stored last, in the order of the modules."""
        return [h.stored for h in self.hooks]

    def remove(self) -> None:
        """Unregister every hook."""
        for h in self.hooks:
            h.remove()

    def __getitem__(self, i: int) -> Hook:
        return self.hooks[i]

    def __len__(self) -> int:
        return len(self.hooks)

    def __iter__(self) -> Iterator[Hook]:
        return iter(self.hooks)

    def __enter__(self) -> Hooks:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _output(module: nn.Module, inp, out):
    return out


def _grad_output(module: nn.Module, grad_inp, grad_out):
    # torch passes gradients as a tuple even for a module with one output
    return grad_out[0] if len(grad_out) == 1 else grad_out


def hook_output(module: nn.Module, detach: bool = True, cpu: bool = False, grad: bool = False) -> Hook:
    """A `Hook` storing the output of `module` (or, with `grad`, the gradient of its output)."""
    return Hook(module, _grad_output if grad else _output, is_forward=not grad, detach=detach, cpu=cpu)


def hook_outputs(
    modules: Iterable[nn.Module], detach: bool = True, cpu: bool = False, grad: bool = False
) -> Hooks:
    """`Hooks` storing the output (or, with `grad`, the output gradient) of each of `modules`."""
    return Hooks(modules, _grad_output if grad else _output, is_forward=not grad, detach=detach, cpu=cpu)


def _first_weight(model: nn.Module) -> torch.Tensor:
    for p in model.parameters():
        if p.ndim >= 2:
            return p
    raise TrainError(
        f"{type(model).__name__} has no weight matrix or kernel to infer its input channels from"
    )


def dummy_eval(model: nn.Module, size: tuple[int, ...] = (64, 64)) -> Any:
    """Run a batch of one random input of spatial `size` through `model` in eval mode, without gradients.

    The input's channel count is the second dimension of the first weight with two or more
    dimensions (the first conv's input channels); its device and dtype are that weight's. The
    model's train/eval mode is restored afterwards.
    """
    w = _first_weight(model)
    x = torch.empty(1, w.shape[1], *size, device=w.device, dtype=w.dtype).uniform_(-1.0, 1.0)
    was_training = model.training
    try:
        with torch.no_grad():
            return model.eval()(x)
    finally:
        model.train(was_training)


def model_sizes(model: nn.Module, size: tuple[int, ...] = (64, 64)) -> list[torch.Size]:
    """The output shape of each child of `model` for a dummy input of spatial `size`."""
    children = list(model.children())
    if not children:
        raise TrainError(f"model_sizes needs a model with children, {type(model).__name__} has none")
    with hook_outputs(children) as hooks:
        dummy_eval(model, size)
        return [o.shape for o in hooks.stored]


def num_features_model(model: nn.Module, sizes: Iterable[int] = (32, 64, 128, 256, 512)) -> int:
    """How many channels (features) `model` outputs, found by a dummy input of the first size that fits."""
    errors = []
    for sz in sizes:
        try:
            return model_sizes(model, (sz, sz))[-1][1]
        except RuntimeError as e:  # too small for the model's downsampling: try a larger input
            errors.append(f"{sz}x{sz}: {e}")
    raise TrainError(f"no dummy input size fits {type(model).__name__}; " + "; ".join(errors))


def _leaf_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if not list(m.children())]


def _has_params(m: nn.Module) -> bool:
    return any(True for _ in m.parameters(recurse=False))


class HookCallback(Callback):
    """Base of callbacks that hook modules during `fit` with their `hook(module, input, output)` method.

    `modules` defaults to every leaf module with parameters of the model (every leaf with
    `include_paramless`). With `every`, the hooks are in place only on every `every`-th training
    batch (and not during validation); otherwise during the whole fit. `remove_end=False` keeps
    them after the fit, to inspect `hooks.stored` later.
    """

    def __init__(
        self,
        modules: Iterable[nn.Module] | None = None,
        every: int | None = None,
        remove_end: bool = True,
        is_forward: bool = True,
        detach: bool = True,
        cpu: bool = True,
        include_paramless: bool = False,
    ):
        if not callable(getattr(type(self), "hook", None)):
            raise TrainError(f"{type(self).__name__} derives from HookCallback but defines no hook method")
        if every is not None and every < 1:
            raise TrainError(f"{type(self).__name__}(every=...) must be a positive batch count, got {every}")
        self.modules = None if modules is None else list(modules)
        self.every, self.remove_end, self.is_forward = every, remove_end, is_forward
        self.detach, self.cpu, self.include_paramless = detach, cpu, include_paramless
        self.hooks: Hooks | None = None
        self._hooked_batch = False

    def _register(self) -> None:
        self._remove()
        modules = self.modules
        if modules is None:
            modules = [m for m in _leaf_modules(self.learn.model) if self.include_paramless or _has_params(m)]
        self.hooks = Hooks(modules, self.hook, self.is_forward, self.detach, self.cpu)

    def _remove(self) -> None:
        if self.hooks is not None:
            self.hooks.remove()

    def _due(self) -> bool:
        return self.learn.training and (self.every is None or self.learn.train_iter % self.every == 0)

    def before_fit(self):
        if self.every is None:
            self._register()

    def before_batch(self):
        # decided here and remembered: train_iter may move on before this callback's after_batch
        self._hooked_batch = self.every is not None and self._due()
        if self._hooked_batch:
            self._register()

    def after_batch(self):
        if self._hooked_batch:
            self._remove()
            self._hooked_batch = False

    def after_fit(self):
        if self.remove_end:
            self._remove()


class ActivationStats(HookCallback):
    """Record, at each training batch (or every `every`-th), the activation statistics of each hooked layer.

    Per layer and batch: `mean`, `std` and `near_zero`, the fraction of activations with
    `|x| <= 0.05`; with `with_hist`, a 40-bin histogram of the values in [0, 10].
    `stats[batch][layer]` holds them; `layer_stats(i)` stacks them for layer `i`.
    """

    order = -20
    run_valid = False

    def __init__(self, with_hist: bool = False, every: int | None = None, **kwargs):
        kwargs.setdefault("cpu", False)  # the statistics are reduced where the activations are
        super().__init__(every=every, **kwargs)
        self.with_hist = with_hist
        self.stats: list[list[dict]] = []

    def hook(self, module: nn.Module, inp, out) -> dict | None:
        """The statistics of one layer's output (nothing during validation, which is not recorded)."""
        if not self.learn.training:
            return None
        o = (out[0] if isinstance(out, (tuple, list)) else out).float()
        res = {
            "mean": o.mean().item(),
            "std": o.std().item(),
            "near_zero": (o.abs() <= 0.05).float().mean().item(),
        }
        if self.with_hist:
            res["hist"] = o.histc(40, 0, 10).cpu()
        return res

    def before_fit(self):
        self.stats = []
        super().before_fit()

    def after_batch(self):
        if self.learn.training and (self.every is None or self._hooked_batch):
            self.stats.append(self.hooks.stored)
        super().after_batch()

    def layer_stats(self, idx: int) -> torch.Tensor:
        """A `(3, n_batches)` tensor: mean, std and near-zero fraction of layer `idx` at each recorded batch."""
        if not self.stats:
            raise TrainError("ActivationStats has no statistics yet: fit the learner first")
        return torch.tensor([[s[idx][k] for s in self.stats] for k in ("mean", "std", "near_zero")])

    def hist(self, idx: int) -> torch.Tensor:
        """A `(n_batches, 40)` tensor: the activation histogram of layer `idx` at each recorded batch."""
        if not self.with_hist:
            raise TrainError("ActivationStats recorded no histograms: create it with with_hist=True")
        if not self.stats:
            raise TrainError("ActivationStats has no statistics yet: fit the learner first")
        return torch.stack([s[idx]["hist"] for s in self.stats])

    def plot_layer_stats(self, idx: int):
        """Plot mean, std and near-zero fraction of layer `idx` against the batch; returns the figure."""
        import matplotlib.pyplot as plt

        values = self.layer_stats(idx)
        fig, axs = plt.subplots(1, 3, figsize=(12, 3))
        for ax, v, title in zip(axs, values, ("mean", "std", "fraction near zero")):
            ax.plot(v.numpy())
            ax.set_title(title)
            ax.set_xlabel("batch")
        return fig
