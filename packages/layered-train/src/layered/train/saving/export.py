"""Export a Learner to one file for inference, and load it back without running code from the file.

The file is a `torch.save` of plain data: the model as a spec (see `layered.train.saving.spec`) with
its weights in a separate `state_dict`, the loss (which activates and decodes predictions), the
number of inputs, and the data pipeline inference needs — the validation loader re-created over
no items, keeping its transforms, vocabularies and settings — but not the training data, the
optimizer state or the metrics. `load_learner` reads it with `torch.load(weights_only=True)`
and rebuilds only allow-listed classes.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from layered.core.atomic import atomic_save
from layered.train import __version__
from layered.train.callback import Callback
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.saving.spec import from_spec, to_spec

__all__ = ["export_learner", "load_learner"]

FORMAT = "layered-learner"
_KEYS = ("model", "state_dict", "dls", "loss_func", "n_inp")


def _inference_dls(dls: Any) -> Any:
    """A copy of `dls` whose loaders are all the validation loader over no items; None for plain torch loaders."""
    loaders = getattr(dls, "loaders", None)
    if not loaders:
        return None
    valid = loaders[1] if len(loaders) > 1 else loaders[0]
    dataset = getattr(valid, "dataset", None)
    if not (hasattr(valid, "new") and hasattr(dataset, "new_empty")):
        return None
    empty = valid.new(dataset.new_empty())
    if hasattr(valid, "_batch_types"):
        # the batch types a real batch had: how plain model outputs decode (e.g. into labels)
        empty._types = valid._batch_types()
    out = copy.copy(dls)
    out.loaders = [empty, empty]
    return out


def export_learner(learn: Learner, fname: str | Path = "export.pth") -> Path:
    """Write what inference needs to `learn.path / fname` (atomically); returns the file.

    Raises a `TrainError` naming the object (e.g. `learner.dls.loaders[0].after_item._fs[1]...`)
    that cannot be described without pickle — a lambda, a local function — before writing.
    """
    file = learn.path / fname
    weights = {
        k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in learn.model.state_dict().items()
    }
    record = {
        "format": FORMAT,
        "version": __version__,
        "model": to_spec(learn.model, "learner.model", weights=False),
        "state_dict": to_spec(weights, "learner.model.state_dict"),
        "dls": to_spec(_inference_dls(learn.dls), "learner.dls"),
        "loss_func": to_spec(learn.loss_func, "learner.loss_func"),
        "n_inp": learn.n_inp,
        # callbacks prediction depends on (e.g. one splitting a model's tuple output), made afresh
        "cbs": to_spec([type(cb)() for cb in learn.cbs if cb.for_inference], "learner.cbs"),
    }
    atomic_save(record, file)
    return file


class _NoData:
    """The `dls` of a learner exported over plain torch loaders: the batch layout, but no loaders."""

    def __init__(self, n_inp: int, path: Path, device: torch.device | None):
        self.n_inp, self.path, self.device = n_inp, path, device

    def _missing(self) -> TrainError:
        return TrainError(
            "this learner was exported over plain torch DataLoaders, so its file holds no data "
            "pipeline: pass your own loader, e.g. learn.get_preds(dl=...)"
        )

    @property
    def train(self):
        """Not available: raises `TrainError`."""
        raise self._missing()

    @property
    def valid(self):
        """Not available: raises `TrainError`."""
        raise self._missing()

    def __getitem__(self, i: int):
        raise self._missing()


def _torch_reason(e: Exception) -> str:
    """What torch says is wrong, without its generic advice paragraphs."""
    paragraphs = [p.strip() for p in str(e).split("\n\n") if p.strip()]
    found = [
        p for p in paragraphs if not p.startswith(("Weights only load failed", "Check the documentation"))
    ]
    return " ".join(found or paragraphs[:1])


def _read(file: Path, cpu: bool, trusted: bool) -> Any:
    location = "cpu" if cpu else None
    if trusted:
        return torch.load(file, map_location=location, weights_only=False)
    try:
        return torch.load(file, map_location=location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise TrainError(
            f"{file} holds objects that torch.load(weights_only=True) refuses; torch says: {_torch_reason(e)} "
            "load_learner(..., trusted=True) loads it with full pickle, which runs code from the file: "
            "do that only if you trust its source"
        ) from e


def _on_cpu(learn: Learner) -> Learner:
    learn.model.cpu()
    if hasattr(learn.dls, "cpu"):
        learn.dls.cpu()
    return learn


def load_learner(
    fname: str | Path, cpu: bool = True, trusted: bool = False, allow: Iterable[str] | str = ()
) -> Learner:
    """Rebuild an exported Learner for inference (`predict`, `get_preds`, `dls.test_dl`).

    Classes and functions are looked up only in the allow-list of `layered.train.saving.spec` plus
    `allow` (module prefixes or exact names, e.g. the module defining your model). With
    `trusted=True` any importable name is accepted and the file is read with full pickle, so a
    whole pickled `Learner` loads too; that runs code from the file, so only for files you trust.
    `cpu=True` loads everything onto the CPU.
    """
    file = Path(fname)
    if not file.is_file():
        raise TrainError(f"load_learner: {file} is not a file")
    record = _read(file, cpu, trusted)
    if trusted and isinstance(record, Learner):
        return _on_cpu(record) if cpu else record
    if not (isinstance(record, dict) and record.get("format") == FORMAT and all(k in record for k in _KEYS)):
        found = (
            f"a dict with keys {sorted(map(str, record))}"
            if isinstance(record, dict)
            else type(record).__name__
        )
        raise TrainError(f"{file} is not a layered learner export (format {FORMAT!r}); it holds {found}")

    def build(key: str) -> Any:
        return from_spec(record[key], trusted=trusted, allow=allow, source=str(file), path=f"learner.{key}")

    model = build("model")
    if not isinstance(model, nn.Module):
        raise TrainError(f"{file}: learner.model is a {type(model).__name__}, expected an nn.Module")
    try:
        model.load_state_dict(build("state_dict"), strict=True)
    except RuntimeError as e:
        raise TrainError(f"{file}: the saved weights do not fit the model described there: {e}") from e
    dls = build("dls")
    if dls is None:
        dls = _NoData(int(record["n_inp"]), file.parent, torch.device("cpu") if cpu else None)
    cbs = build("cbs") if "cbs" in record else []
    if not (isinstance(cbs, list) and all(isinstance(cb, Callback) for cb in cbs)):
        raise TrainError(f"{file}: learner.cbs must be a list of callbacks")
    learn = Learner(dls, model, loss_func=build("loss_func"), cbs=cbs)
    return _on_cpu(learn) if cpu else learn
