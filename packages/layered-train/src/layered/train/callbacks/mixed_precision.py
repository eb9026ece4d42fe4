"""Mixed-precision training with `torch.amp`: autocast forward passes, and a grad scaler for fp16.

The model's weights stay float32. Its forward pass runs under `torch.autocast` (fp16 or bf16
matmuls and convolutions) and its outputs come back as float32, so losses and metrics are
computed in full precision. fp16 gradients can underflow, so with `amp_mode='fp16'` the loss is
multiplied by a dynamic scale before backward; the gradients are unscaled before any other
callback sees them (GradientClip clips real values) and a step whose gradients hold inf or NaN
is skipped, the scale lowered. bf16 has float32's range and needs no scaler.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from layered.train.callback import Callback, CancelStepException
from layered.train.errors import TrainError

__all__ = ["MixedPrecision", "to_bf16", "to_fp16", "to_fp32"]

_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def _to_float(o: Any) -> Any:
    """`o` with every half-precision floating tensor (nested in tuples, lists, dicts) made float32."""
    if isinstance(o, torch.Tensor):
        return o.float() if o.dtype in (torch.float16, torch.bfloat16) else o
    if isinstance(o, (tuple, list)):
        return type(o)(_to_float(v) for v in o)
    if isinstance(o, dict):
        return {k: _to_float(v) for k, v in o.items()}
    return o


class _StepProbe:
    """Stands in for the optimizer in `GradScaler.step`, which then only tells whether to step."""

    def __init__(self, opt):
        self.opt, self.stepped = opt, False

    @property
    def param_groups(self) -> list:
        """The real optimizer's parameter groups, which the scaler unscales and checks for inf."""
        return self.opt.param_groups

    def step(self) -> None:
        """Called by the scaler only when the gradients are finite."""
        self.stepped = True


class MixedPrecision(Callback):
    """Train with the forward pass under `torch.autocast` in `amp_mode` ('fp16' or 'bf16').

    The autocast covers exactly one call of `learn.model` per batch (a forward hook leaves it even
    when the forward raises), in training and in `get_preds`. `init_scale`, `growth_factor`,
    `backoff_factor` and `growth_interval` configure fp16's `torch.amp.GradScaler`.
    """

    # after GradientAccumulation (5), whose cancelled steps must not unscale; before GradientClip (20)
    order = 10

    def __init__(
        self,
        amp_mode: str = "fp16",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
    ):
        if amp_mode not in _DTYPES:
            raise TrainError(f"MixedPrecision: amp_mode must be one of {sorted(_DTYPES)}, got {amp_mode!r}")
        self.amp_mode, self.dtype = amp_mode, _DTYPES[amp_mode]
        self.scaler_kwargs = {
            "init_scale": init_scale,
            "growth_factor": growth_factor,
            "backoff_factor": backoff_factor,
            "growth_interval": growth_interval,
        }
        self.scaler: torch.amp.GradScaler | None = None
        self.n_skipped = 0
        self._hooked: nn.Module | None = None
        self._handles: list = []
        self._armed, self._autocast, self._probe = False, None, None

    # ---- autocast around the model's forward ------------------------------------------------
    def _hook(self, model: nn.Module) -> None:
        if model is self._hooked:
            return
        self.remove_hooks()
        self.device_type = torch.device(self.learn.device).type
        if not torch.amp.is_autocast_available(self.device_type):
            raise TrainError(f"MixedPrecision: torch has no autocast for device type {self.device_type!r}")
        self._handles = [
            model.register_forward_pre_hook(self._enter),
            model.register_forward_hook(self._leave, always_call=True),
        ]
        self._hooked = model

    def remove_hooks(self) -> None:
        """Take the autocast hooks off the model (done after each fit and by `to_fp32`)."""
        for h in self._handles:
            h.remove()
        self._handles, self._hooked, self._armed = [], None, False

    def _enter(self, module: nn.Module, args: tuple) -> None:
        if self._armed and self._autocast is None:
            self._autocast = torch.autocast(self.device_type, dtype=self.dtype)
            self._autocast.__enter__()

    def _leave(self, module: nn.Module, args: tuple, output: Any) -> Any:
        if self._autocast is None:
            return None
        autocast, self._autocast, self._armed = self._autocast, None, False
        autocast.__exit__(None, None, None)
        return _to_float(output)

    # ---- events -------------------------------------------------------------------------------
    def before_fit(self):
        self.n_skipped = 0
        self._hook(self.learn.model)
        if self.amp_mode == "fp16":
            self.scaler = torch.amp.GradScaler(self.device_type, **self.scaler_kwargs)

    def before_batch(self):
        self._hook(self.learn.model)
        self._armed = True

    def after_batch(self):
        # a batch cancelled before its forward leaves the autocast armed: it must not reach later calls
        self._armed = False

    def before_backward(self):
        if self.scaler is not None:
            self.learn.loss_grad = self.scaler.scale(self.learn.loss_grad)

    def before_step(self):
        if self.scaler is None:
            return
        self._probe = _StepProbe(self.learn.opt)
        self.scaler.unscale_(self._probe)
        self.scaler.step(self._probe)
        if not self._probe.stepped:
            self.n_skipped += 1
            raise CancelStepException()

    def after_step(self):
        self._update_scale()

    def after_cancel_step(self):
        self._update_scale()

    def _update_scale(self):
        # only after this batch's unscale: a step cancelled earlier (accumulation) has nothing to report
        if self._probe is not None:
            self.scaler.update()
            self._probe = None

    def after_fit(self):
        self.remove_hooks()


def to_fp16(learn, **kwargs):
    """Train `learn` in fp16 mixed precision with a grad scaler (`kwargs` go to MixedPrecision); returns it."""
    to_fp32(learn)
    return learn.add_cb(MixedPrecision(amp_mode="fp16", **kwargs))


def to_bf16(learn):
    """Train `learn` in bf16 mixed precision; returns it."""
    to_fp32(learn)
    return learn.add_cb(MixedPrecision(amp_mode="bf16"))


def to_fp32(learn):
    """Take mixed precision off `learn` (removes its MixedPrecision callback and hooks); returns it."""
    for cb in [c for c in learn.cbs if isinstance(c, MixedPrecision)]:
        cb.remove_hooks()
        learn.remove_cb(cb)
    return learn
