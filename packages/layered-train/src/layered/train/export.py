"""Export a Learner to one file for inference, and load it back without running code from the file.

The file holds the model's weights, a declarative description of the model and of the data
pipeline needed for inference (not the training data), and the loss (which decodes
predictions). It is read with `torch.load(weights_only=True)`; classes are rebuilt only from an
allow-list (see `layered.train.spec`).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from layered.train.errors import TrainError
from layered.train.spec import from_spec, to_spec

__all__ = ["export_learner", "load_learner"]

FORMAT = "layered-learner"


def _inference_loader(dls):
    """The validation loader over no items: pipelines, vocabularies and settings, no data."""
    valid = getattr(dls, "valid", None)
    dataset = getattr(valid, "dataset", None)
    if dataset is None or not hasattr(dataset, "new_empty") or not hasattr(valid, "after_item"):
        return None
    empty = dataset.new_empty()
    return {
        "tls": [tl.tfms for tl in empty.tls],
        "n_inp": empty.n_inp,
        "bs": valid.bs,
        "after_item": valid.after_item,
        "before_batch": valid.before_batch,
        "after_batch": valid.after_batch,
        "loader": type(valid),
        "types": valid._batch_types() if hasattr(valid, "_batch_types") else None,
    }


def export_learner(learn, fname: str | Path = "export.pth") -> Path:
    """Write what inference needs to `learn.path/fname` (atomically); returns the file.

    Raises a `TrainError` naming the object (e.g. a lambda in a transform) that cannot be
    described without pickle — at export time, not when loading.
    """
    from layered.train.learner import atomic_save

    file = Path(fname) if Path(fname).is_absolute() else learn.path / fname
    from layered.train import __version__

    payload = {
        "format": FORMAT,
        "version": __version__,
        "model": to_spec(learn.model, "learner.model"),
        "state_dict": {k: v.detach().cpu() for k, v in learn.model.state_dict().items()},
        "loss_func": to_spec(learn.loss_func, "learner.loss_func"),
        "data": to_spec(_inference_loader(learn.dls), "learner.dls.valid"),
    }
    atomic_save(payload, file)
    return file


def load_learner(fname: str | Path, cpu: bool = True, trusted: bool = False, allow: tuple | list = ()):
    """Rebuild an exported Learner for inference (`predict`, `get_preds`, `dls.test_dl`).

    Only classes from layered and `torch.nn` (and the module prefixes in `allow`) are rebuilt.
    `trusted=True` accepts any importable class and reads the file with full pickle, which can run
    code from the file: only for files you trust.
    """
    from layered.data.dataloaders import DataLoaders
    from layered.data.datasets import Datasets
    from layered.data.tfmd_lists import TfmdLists
    from layered.train.learner import Learner

    file = Path(fname)
    try:
        payload = torch.load(file, map_location="cpu" if cpu else None, weights_only=not trusted)
    except pickle.UnpicklingError as e:
        raise TrainError(
            f"{file} holds Python objects that safe loading refuses ({str(e).splitlines()[0]}); "
            "it was not written by layered's export. Load it with trusted=True only if you "
            "trust its source."
        ) from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise TrainError(f"{file} is not a layered export (no '{FORMAT}' header)")
    source = str(file)
    model = from_spec(payload["model"], allow=allow, trusted=trusted, source=source)
    model.load_state_dict(payload["state_dict"], strict=True)
    loss_func = from_spec(payload["loss_func"], allow=allow, trusted=trusted, source=source)
    data = from_spec(payload["data"], allow=allow, trusted=trusted, source=source)
    if data is None:
        raise TrainError(
            f"{file} has no data pipeline (the learner was trained on plain torch loaders); "
            "use learn.save / learn.load with your own loaders instead"
        )
    tls = [TfmdLists([], pipe, do_setup=False, split_idx=1) for pipe in data["tls"]]
    dsets = Datasets(tls=tls, n_inp=data["n_inp"])
    dl = data["loader"](
        dsets,
        bs=data["bs"],
        after_item=data["after_item"],
        before_batch=data["before_batch"],
        after_batch=data["after_batch"],
        do_setup=False,
    )
    dl._types = data["types"]  # how predictions decode: recorded from a real batch at export time
    dls = DataLoaders(dl, dl, device="cpu" if cpu else None)
    learn = Learner(dls, model, loss_func=loss_func)
    model.eval()
    return learn
