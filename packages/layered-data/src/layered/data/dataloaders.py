"""DataLoaders: the training, validation (and any further) loaders of one task, kept together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from layered.core.registry import register_serializable
from layered.data.errors import DataError
from layered.data.sampling import PartialDL, WeightedDL, sampled_train_type
from layered.data.tfmd_loader import TfmdDL

__all__ = ["DataLoaders"]


@register_serializable
class DataLoaders:
    """Hold a task's loaders: `train`, `valid`, and more by index.

    Any iterables of batches work, so two plain `torch.utils.data.DataLoader`s can be wrapped
    as they are (`DataLoaders(train_loader, valid_loader)`) to use a `Learner` without changing
    the data code. Layered `DataLoader`s also give `device` placement, `show_batch`, `test_dl`.
    """

    def __init__(self, *loaders, path: str | Path = ".", device=None, loss_func=None):
        if not loaders:
            raise DataError("DataLoaders needs at least one loader (the training one)")
        self.loaders = list(loaders)
        self.path = Path(path)
        if loss_func is not None:
            self.loss_func = loss_func
        if device is not None:
            self.device = device

    def __getitem__(self, i: int):
        return self.loaders[i]

    def __len__(self) -> int:
        return len(self.loaders)

    def __iter__(self):
        return iter(self.loaders)

    @property
    def train(self):
        """The training loader (index 0)."""
        return self.loaders[0]

    @property
    def valid(self):
        """The validation loader (index 1)."""
        if len(self.loaders) < 2:
            raise DataError("these DataLoaders have no validation loader (only one loader was given)")
        return self.loaders[1]

    @property
    def train_ds(self):
        """The training loader's dataset."""
        return self.train.dataset

    @property
    def valid_ds(self):
        """The validation loader's dataset."""
        return self.valid.dataset

    @property
    def device(self) -> torch.device | None:
        """Where batches are placed (None: left where the loader puts them)."""
        return getattr(self, "_device", None)

    @device.setter
    def device(self, device) -> None:
        self._device = None if device is None else torch.device(device)
        for dl in self.loaders:
            if hasattr(dl, "to") and not isinstance(dl, torch.utils.data.DataLoader):
                dl.to(self._device)

    def to(self, device) -> DataLoaders:
        """Place every batch on `device`; returns self."""
        self.device = device
        return self

    def cpu(self) -> DataLoaders:
        """Place every batch on the CPU; returns self."""
        return self.to("cpu")

    def cuda(self) -> DataLoaders:
        """Place every batch on the current CUDA device; returns self."""
        return self.to(torch.device("cuda", torch.cuda.current_device()))

    @property
    def vocab(self) -> Any:
        """The targets' vocabulary (class names, or mask codes) from the training set's pipelines; None without one."""
        tfm = self._target_tfm("vocab")
        return None if tfm is None else tfm.vocab

    @property
    def c(self) -> int | None:
        """The number of classes of the targets (None if they have no vocabulary)."""
        tfm = self._target_tfm("c")
        return None if tfm is None else tfm.c

    def _target_tfm(self, attr: str) -> Any:
        """The last transform of a target pipeline of the training set that has `attr` set."""
        ds = getattr(self.train, "dataset", None)
        for tl in getattr(ds, "tls", [])[getattr(ds, "n_inp", 1) :]:
            for f in reversed(tl.tfms.fs):
                if getattr(f, attr, None) is not None:
                    return f
        return None

    @property
    def n_inp(self) -> int:
        """How many items of a batch are inputs."""
        return getattr(self.train, "n_inp", 1)

    def one_batch(self):
        """One batch of the training loader."""
        dl = self.train
        return dl.one_batch() if hasattr(dl, "one_batch") else next(iter(dl))

    def show_batch(self, b=None, max_n: int = 9, **kwargs):
        """Show a batch of the training loader, dispatched on the types of its items."""
        if not hasattr(self.train, "show_batch"):
            raise DataError("show_batch needs a layered TfmdDL (plain torch loaders cannot decode batches)")
        return self.train.show_batch(b=b, max_n=max_n, **kwargs)

    def decode(self, b):
        """Decode a batch with the validation loader's pipelines."""
        return self.valid.decode(b)

    def decode_batch(self, b, max_n: int = 9):
        """Decode a batch into a list of items with the validation loader's pipelines."""
        return self.valid.decode_batch(b, max_n=max_n)

    def test_dl(self, test_items, rm_type_tfms=None, with_labels: bool = False, **kwargs):
        """A loader over new raw items that replays the validation pipeline (no augmentation)."""
        dsets = getattr(self.valid, "dataset", None)
        if dsets is None or not hasattr(dsets, "test_set"):
            raise DataError("test_dl needs DataLoaders built from Datasets (e.g. by a DataBlock)")
        test_ds = dsets.test_set(test_items, rm_tfms=rm_type_tfms, with_labels=with_labels)
        return self.valid.new(test_ds, shuffle=False, drop_last=False, **kwargs)

    @classmethod
    def from_dsets(
        cls,
        *dsets,
        path=".",
        bs: int = 64,
        shuffle_train: bool = True,
        device=None,
        dl_type=None,
        loss_func=None,
        wgts=None,
        partial_n: int | None = None,
        **kwargs,
    ) -> DataLoaders:
        """One `TfmdDL` per dataset: the first shuffles and drops the last partial batch.

        `wgts` (one per training item) makes the training loader a `WeightedDL`; `partial_n` a
        `PartialDL` visiting that many random items per epoch (`layered.data.sampling`).
        """
        loaders = []
        for i, ds in enumerate(dsets):
            kind = dl_type or getattr(ds, "dl_type", None) or TfmdDL
            train = i == 0 and shuffle_train
            extra = {}
            if i == 0:
                kind, extra = sampled_train_type(
                    kind, wgts, partial_n, train, WeightedDL, PartialDL, "DataLoaders.from_dsets"
                )
            loaders.append(kind(ds, bs=bs, shuffle=train, drop_last=train, device=device, **kwargs, **extra))
        return cls(*loaders, path=path, device=device, loss_func=loss_func)

    def __repr__(self) -> str:
        sizes = ", ".join(str(len(dl.dataset)) if hasattr(dl, "dataset") else "?" for dl in self.loaders)
        return f"DataLoaders({len(self.loaders)} loaders; items: {sizes}; device={self.device})"
