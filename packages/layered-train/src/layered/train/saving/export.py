"""Export a Learner to one file for inference, and load it back without running code from the file.

The file is an artifact (`layered.train.saving.artifact`): a safetensors file holding the
model's weights under `model.` + their state-dict names, and in its metadata a JSON
configuration (`layered.core.config`) of the model, the loss (which activates and decodes
predictions), the number of inputs, the callbacks prediction needs and the data pipeline
inference needs — the validation loader re-created over no items, keeping its transforms,
vocabularies and settings — but not the training data, the optimizer state or the metrics.

Every class or function the file names must be registered (`layered.core.registry`): loading
builds the learner from registered components and nothing else. Export proves its own round
trip: it reads the file back and checks the rebuilt model's weights and its predictions on one
batch against the live learner, and refuses (naming the attribute path and the remedy) what it
cannot describe. `export(..., pickle=True)` writes the trusted pickle format instead, which only
`load_learner(..., trusted=True)` reads: it can hold anything, and loading it runs code.
"""

from __future__ import annotations

import copy
import importlib
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from layered.core.atomic import atomic_save, atomic_write
from layered.core.config import ConfigError, ConfigReader, ConfigWriter
from layered.core.registry import registered_name
from layered.train.callback import Callback
from layered.train.errors import TrainError
from layered.train.saving.artifact import ArtifactError, artifact_bytes, parse_artifact, read_artifact

__all__ = ["export_learner", "read_learner"]

FORMAT = "layered-learner"
PICKLE_FORMAT = "layered-learner-pickle"
# the distributions whose `all` module registers the components a file may name
_PACKAGES = ("core", "data", "train", "vision", "text", "tabular", "collab")


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


def _packages(config: Any, found: set[str]) -> set[str]:
    """The layered distributions whose components `config` names."""
    if isinstance(config, dict):
        for key in ("$obj", "$module", "$name", "$class", "$enum"):
            name = config.get(key)
            if isinstance(name, str) and name.startswith("layered."):
                found.add(name.split(".")[1])
            elif isinstance(name, str) and name.startswith(("torchvision.", "PIL.")):
                found.add("vision")  # layered-vision registers the torchvision and PIL components
        for v in config.values():
            _packages(v, found)
    elif isinstance(config, list):
        for v in config:
            _packages(v, found)
    return found


def _registered_class(cls: type) -> type:
    """`cls`, or its nearest registered base: an unregistered Learner subclass loads as that base."""
    return next(c for c in cls.__mro__ if registered_name(c) is not None)


def _record(learn: Any) -> tuple[dict, dict[str, torch.Tensor]]:
    """The configuration and tensors of what inference needs from `learn`."""
    writer = ConfigWriter()
    config = {
        # the learner's class: a subclass (e.g. text's LMLearner) keeps its own predict
        "learner": writer.describe(_registered_class(type(learn)), "learner.__class__"),
        "model": writer.describe(learn.model, "learner.model", "model."),
        "dls": writer.describe(_inference_dls(learn.dls), "learner.dls"),
        "loss_func": writer.describe(learn.loss_func, "learner.loss_func"),
        "n_inp": learn.n_inp,
        # callbacks prediction depends on (e.g. one splitting a model's tuple output), made afresh
        "cbs": writer.describe([type(cb)() for cb in learn.cbs if cb.for_inference], "learner.cbs"),
    }
    config = writer.prune(config)
    config["packages"] = sorted(_packages(config, set()) & set(_PACKAGES))
    return config, writer.tensors


def _one_batch(learn: Any) -> Any:
    """The inputs of one batch the learner's data gives, or None when it has none to give."""
    for i in (1, 0):
        try:
            dl = learn.dls[i]
            b = next(iter(dl), None)
        except Exception:  # a data source that cannot give a batch here: only the weights are checked
            continue
        if b is not None:
            b = b if isinstance(b, (tuple, list)) else (b,)
            return tuple(b[: learn.n_inp])
    return None


def _predict(model: nn.Module, xb: tuple) -> Any:
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            device = next((p.device for p in model.parameters()), torch.device("cpu"))
            return model(*[x.to(device) if isinstance(x, torch.Tensor) else x for x in xb])
    finally:
        model.train(training)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return (
            isinstance(b, torch.Tensor)
            and a.shape == b.shape
            and torch.allclose(a.detach().cpu().float(), b.detach().cpu().float(), atol=1e-5, rtol=1e-4)
        )
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return True


def _prove_round_trip(learn: Any, data: bytes, file: Path) -> None:
    """Load the artifact `data` back and compare its weights and one batch of predictions with the live learner."""
    try:
        loaded = _learner_of(
            *parse_artifact(data, FORMAT, file)[:2], file, True, _registered_class(type(learn))
        )
    except Exception as e:
        raise TrainError(f"export to {file}: the file would not load back ({type(e).__name__}: {e})") from e
    live_state, new_state = learn.model.state_dict(), loaded.model.state_dict()
    if list(live_state) != list(new_state):
        missing = sorted(set(live_state) ^ set(new_state))[:5]
        raise TrainError(
            f"export to {file}: the rebuilt model's weights differ in names ({missing}); is a module changed after construction?"
        )
    for k, v in live_state.items():
        if not torch.equal(v.detach().cpu(), new_state[k]):
            raise TrainError(f"export to {file}: the rebuilt model's {k} differs from the live one")
    xb = _one_batch(learn)
    if xb is not None and not _same(_predict(learn.model, xb), _predict(loaded.model, xb)):
        raise TrainError(
            f"export to {file}: the rebuilt model predicts differently from the live one on a batch; "
            "a module keeps state that its class does not describe (register it with get_config/from_config)"
        )


def export_learner(learn: Any, fname: str | Path = "export.safetensors", pickle: bool = False) -> Path:
    """Write what inference needs to `learn.path / fname` (atomically), prove it loads back; returns the file.

    Raises a `ConfigError` naming the attribute path (e.g. `learner.dls.loaders[0].after_item...`)
    of anything that is not registered, before writing. With `pickle=True` the whole inference
    learner is pickled instead (anything goes, but loading it runs code: see `load_learner`).
    """
    file = learn.path / fname
    if pickle:
        warnings.warn(
            f"{file} is written as a pickle: loading it runs code; share it only with people who trust you",
            stacklevel=2,
        )
        parts = {
            "model": learn.model,
            "dls": _inference_dls(learn.dls),
            "loss_func": learn.loss_func,
            "n_inp": learn.n_inp,
        }
        atomic_save({"format": PICKLE_FORMAT, **parts}, file)
        return file
    config, tensors = _record(learn)
    data = artifact_bytes(FORMAT, config, tensors)
    _prove_round_trip(learn, data, file)  # before writing: a refused export leaves the previous file
    with atomic_write(file, "wb") as f:
        f.write(data)
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


def _on_cpu(learn: Any) -> Any:
    learn.model.cpu()
    if hasattr(learn.dls, "cpu"):
        learn.dls.cpu()
    return learn


def _load_pickle(file: Path, cpu: bool, base: type) -> Any:
    warnings.warn(f"load_learner(trusted=True) unpickles {file}, which runs any code it holds", stacklevel=3)
    record = torch.load(file, map_location="cpu" if cpu else None, weights_only=False)
    if not (isinstance(record, dict) and record.get("format") == PICKLE_FORMAT):
        raise ArtifactError(f"{file} is not a layered pickle export")
    dls = record["dls"] or _NoData(record["n_inp"], file.parent, torch.device("cpu") if cpu else None)
    learn = base(dls, record["model"], loss_func=record["loss_func"])
    return _on_cpu(learn) if cpu else learn


def _fill_weights(model: nn.Module, weights: dict[str, torch.Tensor], file: Path) -> None:
    """Give `model` the file's weights, checking that they are exactly the ones its state dict names.

    A state-dict entry the file does not hold is accepted only as another name of a tensor that
    was loaded (a module shared by two parents, tied weights).
    """
    state = model.state_dict(keep_vars=True)
    unexpected = sorted(k for k in weights if k.removeprefix("model.") not in state)
    if unexpected:
        raise ArtifactError(
            f"{file}: weights {unexpected[:5]} belong to no part of the model described there"
        )
    loaded: set[int] = set()
    aliases = []
    for k, v in state.items():
        w = weights.get("model." + k)
        if w is None:
            aliases.append(k)
            continue
        if v.shape != w.shape:
            raise ArtifactError(
                f"{file}: the weight {k} has shape {tuple(w.shape)}, the model needs {tuple(v.shape)}"
            )
        if v is not w and v.data_ptr() != w.data_ptr():
            with torch.no_grad():
                v.copy_(w)
        loaded.add(v.data_ptr())
    missing = [k for k in aliases if state[k].data_ptr() not in loaded]
    if missing:
        raise ArtifactError(f"{file}: the model described there needs weights the file lacks: {missing[:5]}")


def _import_packages(file: Path, names: Any) -> None:
    """Import the `all` module of each layered distribution the file names, so its components are registered."""
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ArtifactError(f"{file}: 'packages' must be a list of names")
    for name in names:
        if name not in _PACKAGES:
            raise ArtifactError(f"{file} names the unknown layered distribution {name!r}")
        try:
            importlib.import_module(f"layered.{name}.all")
        except ImportError as e:
            raise ArtifactError(
                f"{file} needs layered-{name}, which is not installed here: pip install layered-{name}"
            ) from e


def read_learner(fname: str | Path, base: type, cpu: bool = True, trusted: bool = False) -> Any:
    """The learner (of class `base`, or a subclass the file names) exported to `fname`; see `load_learner`.

    Only registered components are built (`layered.core.registry`): import the modules that
    register your own classes before loading. `trusted=True` also reads the pickle format of
    `export(..., pickle=True)`, which runs code from the file. `cpu=True` loads onto the CPU.
    """
    file = Path(fname)
    if trusted and file.is_file():
        with open(file, "rb") as f:
            if f.read(4) == b"PK\x03\x04":  # torch.save's zip: the trusted pickle format
                return _load_pickle(file, cpu, base)
    config, tensors, _ = read_artifact(file, FORMAT)
    return _learner_of(config, tensors, file, cpu, base)


def _learner_of(config: Any, tensors: dict[str, torch.Tensor], file: Path, cpu: bool, base: type) -> Any:
    """The learner an export's configuration and tensors describe (`file` names them in errors)."""
    if not isinstance(config, dict) or not {"model", "dls", "loss_func", "n_inp"} <= set(config):
        raise ArtifactError(f"{file}: its configuration lacks model, dls, loss_func or n_inp")
    _import_packages(file, config.get("packages", []))
    weights = {k: v for k, v in tensors.items() if k.startswith("model.")}
    reader = ConfigReader(tensors, str(file))  # one reader: the parts may refer to each other

    def build(key: str) -> Any:
        return reader.read(config[key], f"learner.{key}")

    model = build("model")
    if not isinstance(model, nn.Module):
        raise ArtifactError(f"{file}: learner.model is a {type(model).__name__}, expected an nn.Module")
    _fill_weights(model, weights, file)
    n_inp = config["n_inp"]
    if type(n_inp) is not int or n_inp < 1:
        raise ArtifactError(f"{file}: n_inp must be a positive integer, found {n_inp!r}")
    dls = build("dls")
    if dls is None:
        dls = _NoData(n_inp, file.parent, torch.device("cpu") if cpu else None)
    loss_func = build("loss_func")
    cbs = build("cbs") if "cbs" in config else []
    if not (isinstance(cbs, list) and all(isinstance(cb, Callback) for cb in cbs)):
        raise ArtifactError(f"{file}: learner.cbs must be a list of callbacks")
    cls = build("learner") if "learner" in config else base
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ArtifactError(f"{file}: learner.__class__ is {cls!r}, expected a {base.__qualname__} class")
    if isinstance(getattr(dls, "path", None), Path):
        dls.path = file.parent  # where the learner writes (save, plots) is the user's choice, not the file's
    try:
        learn = cls(dls, model, loss_func=loss_func, path=file.parent)
        # the class may attach some of them itself (a text learner its RNNCallback)
        learn.add_cbs([cb for cb in cbs if not any(type(c) is type(cb) for c in learn.cbs)])
    except ConfigError:
        raise
    except Exception as e:
        raise ArtifactError(
            f"{file}: the parts it describes do not make a learner ({type(e).__name__}: {e})"
        ) from e
    return _on_cpu(learn) if cpu else learn
