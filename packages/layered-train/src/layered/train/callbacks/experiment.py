"""What an experiment tracker records of a fit: hyper-parameters, per-epoch values, tags and the exported model.

`ExperimentCallback` is the shape `MLflowCallback` and `WandbCallback` share: at the start of a fit
it gathers `fit_params(learn)` (lr, schedule, optimizer, batch size, model class, data sizes) and
the tags; after every epoch the Recorder's losses and metrics; after the fit the learner's safe
export (`learn.export`, a safetensors file that loads without running code) as an artifact. A
subclass implements `start`, `log_epoch`, `log_model` and `finish`. Under DDP only the first
process logs; fits run by `lr_find` are not logged.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

from layered.train.callback import Callback
from layered.train.callbacks.lr_finder import LRFinder
from layered.train.callbacks.param_scheduler import ParamScheduler
from layered.train.distributed import rank_distrib

__all__ = ["ExperimentCallback", "epoch_values", "fit_params"]


def _name_of(f: Any) -> str:
    """A readable name of a function, a partial of one, a class or an object."""
    inner = getattr(f, "func", None)
    if inner is not None and callable(inner):
        return _name_of(inner)
    return getattr(f, "__name__", None) or type(f).__name__


def _size(data: Any) -> int | None:
    try:
        return len(data)
    except TypeError:
        return None


def _number(v: Any) -> float | None:
    """A finite plain number from `v` (a float, an int or a 0-d tensor/array), else None."""
    if hasattr(v, "item") and getattr(v, "ndim", 0) == 0:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def fit_params(learn: Any) -> dict[str, Any]:
    """The hyper-parameters of the fit starting in `learn`, as plain values (numbers and strings)."""
    params: dict[str, Any] = {"n_epoch": learn.n_epoch, "model": type(learn.model).__name__}
    params["n_parameters"] = sum(p.numel() for p in learn.model.parameters())
    params["optimizer"] = _name_of(learn.opt_func)
    params["loss_func"] = type(learn.loss_func).__name__
    params["metrics"] = ",".join(m.name for m in learn.metrics)
    if learn.opt is not None and learn.opt.hypers:
        for name, value in learn.opt.hypers[-1].items():  # the last group: the head's lr
            number = _number(value)
            if number is not None:
                params[name] = number
    params["wd_bn_bias"], params["train_bn"] = learn.wd_bn_bias, learn.train_bn
    scheds = [cb for cb in learn.cbs if isinstance(cb, ParamScheduler)]
    params["schedule"] = (
        "; ".join(f"{k}: {s!r}" for cb in scheds for k, s in cb.scheds.items()) if scheds else "constant"
    )
    train, valid = getattr(learn.dls, "train", None), getattr(learn.dls, "valid", None)
    for name, dl in (("train", train), ("valid", valid)):
        if dl is None:
            continue
        params[f"n_{name}"] = _size(getattr(dl, "dataset", None))
    params["batch_size"] = getattr(train, "bs", None) or getattr(train, "batch_size", None)
    return {k: v for k, v in params.items() if v is not None}


def epoch_values(learn: Any) -> dict[str, float]:
    """The Recorder's losses and metrics of the epoch that just ended (the time column left out)."""
    rec = learn.recorder
    out = {}
    for name, value in zip(rec.value_names, rec.values[-1] if rec.values else []):
        number = _number(value)
        if name != "time" and number is not None:
            out[name] = number
    return out


class ExperimentCallback(Callback):
    """Base of the tracker callbacks (see the module docstring); `tags` are added to every run."""

    # after the Recorder (50) has the epoch's values; before trackers (60+) that may stop the fit
    order = 55
    run_valid = False

    def __init__(self, tags: dict[str, Any] | None = None, log_model: bool = True):
        self.tags = dict(tags or {})
        self.log_model_file = log_model
        self._active = False

    # ---- what a tracker implements --------------------------------------------------------
    def start(self, params: dict[str, Any], tags: dict[str, str]) -> None:
        """Open a run and record its hyper-parameters and tags."""
        raise NotImplementedError

    def log_epoch(self, values: dict[str, float], epoch: int) -> None:
        """Record one epoch's losses and metrics."""
        raise NotImplementedError

    def log_model(self, file: Path) -> None:
        """Record the exported model file as an artifact of the run."""
        raise NotImplementedError

    def finish(self, status: str) -> None:
        """Close the run: `status` is "FINISHED" or "KILLED" (the fit was cancelled)."""
        raise NotImplementedError

    # ---- the events ---------------------------------------------------------------------
    def before_fit(self):
        self._active = rank_distrib() == 0 and not any(isinstance(cb, LRFinder) for cb in self.learn.cbs)
        if not self._active:
            return
        self._status = "FINISHED"
        tags = {"library": "layered", "learner": type(self.learn).__name__}
        tags.update({str(k): str(v) for k, v in self.tags.items()})
        self.start(fit_params(self.learn), tags)

    def after_epoch(self):
        if self._active:
            self.log_epoch(epoch_values(self.learn), self.learn.epoch)

    def after_cancel_fit(self):
        self._status = "KILLED"

    def after_fit(self):
        if not self._active:
            return
        self._active = False
        try:
            if self.log_model_file:
                self._log_export()
        finally:
            self.finish(self._status)

    def _log_export(self) -> None:
        from layered.train.saving.export import export_learner  # the export module imports the learner

        with tempfile.TemporaryDirectory() as folder:
            try:
                file = export_learner(self.learn, Path(folder) / "model.safetensors")
            except Exception as e:  # a learner that cannot be exported still has its run logged
                warnings.warn(f"{type(self).__name__}: the model was not logged: {e}", stacklevel=2)
                return
            self.log_model(file)
