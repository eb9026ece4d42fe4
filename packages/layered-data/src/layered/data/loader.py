"""DataLoader: PyTorch's loading machinery, with every stage a method you can replace.

Stages, in the order they run for one epoch (each replaceable by a constructor keyword or by
overriding it in a subclass):

- sample creation: `randomize` (a fresh seed per epoch, drawn in the main process),
  `before_iter`, `get_idxs` (which items, in which order) using `shuffle_fn`, and `sample`
  (which of them this worker process handles);
- item creation: `create_item` (`dataset[i]`), `after_item`, together `do_item`;
- batch creation: `chunkify` (group items into batches), `before_batch`, `create_batch`
  (collate), `retain` (keep semantic types), `after_batch`, together `do_batch`, all driven by
  `create_batches`;
- placement: `to_device`; and `after_iter` at the end of the epoch.

Workers, pinned memory and prefetching are torch's own: this class hands torch an iterable of
whole batches, and each worker builds every `num_workers`-th batch, so the order is the same as
with `num_workers=0`. Data already in memory (tensors, arrays, DataFrames) takes a fast path:
each batch is one indexing operation per array, with no per-item work.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
import torch.utils.data as tud

from layered.core.device import to_device
from layered.core.funcs_kwargs import funcs_kwargs
from layered.core.tensor import retain_types
from layered.data.collate import collate
from layered.data.errors import DataError
from layered.data.in_memory import as_arrays, slice_arrays

__all__ = ["DataLoader"]

_PER_ITEM = ("create_item", "after_item", "do_item", "before_batch", "create_batch")


class _Batches(tud.IterableDataset):
    """What torch iterates: each worker yields its share of the loader's batches."""

    def __init__(self, dl: DataLoader):
        self.dl = dl

    def __iter__(self) -> Iterator:
        info = tud.get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return self.dl._worker_batches(worker, n_workers)


@funcs_kwargs
class DataLoader:
    """Batches from `dataset` (anything with `len` and `[i]`, or an iterable), `bs` items at a time."""

    _methods = [
        "randomize",
        "before_iter",
        "get_idxs",
        "shuffle_fn",
        "sample",
        "create_item",
        "after_item",
        "do_item",
        "chunkify",
        "before_batch",
        "create_batch",
        "retain",
        "after_batch",
        "do_batch",
        "create_batches",
        "to_device",
        "after_iter",
    ]

    def __init__(
        self,
        dataset=None,
        bs: int | None = 64,
        shuffle: bool = False,
        drop_last: bool = False,
        num_workers: int = 0,
        pin_memory: bool = False,
        timeout: float = 0,
        device=None,
        n: int | None = None,
        indexed: bool | None = None,
        in_memory: bool | None = None,
        seed: int | None = None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                f"DataLoader got unexpected arguments {sorted(kwargs)}; replaceable stages are "
                f"{', '.join(self._methods)}"
            )
        if bs is not None and bs < 1:
            raise DataError(f"DataLoader: bs must be a positive integer or None, got {bs}")
        self.dataset, self.bs, self.shuffle, self.drop_last = dataset, bs, shuffle, drop_last
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self._arrays = as_arrays(dataset) if in_memory is not False else None
        self.indexed = _is_indexed(dataset) if indexed is None else indexed
        if n is None and self.indexed:
            n = len(self._arrays[0]) if self._arrays is not None else len(dataset)
        self.n = n
        self._device = None if device is None else torch.device(device)
        if in_memory and self._arrays is None:
            raise DataError(
                f"DataLoader: in_memory=True but {type(dataset).__name__} is not tensors, arrays or "
                "a DataFrame"
            )
        if num_workers and not self.indexed:
            raise DataError(
                "DataLoader: a dataset without len and indexing can only be read with num_workers=0"
            )
        self.rng = random.Random(seed if seed is not None else random.randint(0, 2**32 - 1))
        self._idxs: list | None = None

    # ---- settings ---------------------------------------------------------------------
    @property
    def device(self) -> torch.device | None:
        """Where batches are placed (None: where they were made)."""
        return self._device

    @device.setter
    def device(self, device) -> None:
        self._device = None if device is None else torch.device(device)

    def to(self, device) -> DataLoader:
        """Place batches on `device`; returns self."""
        self.device = device
        return self

    @property
    def fast_path(self) -> bool:
        """Whether batches are sliced from in-memory arrays (no per-item stage was replaced)."""
        if self._arrays is None:
            return False
        for name in _PER_ITEM:
            if name in self.__dict__ or getattr(type(self), name) is not getattr(DataLoader, name):
                return False
        return True

    def __len__(self) -> int:
        if self.n is None:
            raise TypeError("this DataLoader iterates a dataset of unknown length")
        if self.bs is None:
            return self.n
        return self.n // self.bs if self.drop_last else -(-self.n // self.bs)

    # ---- sample creation --------------------------------------------------------------
    def randomize(self) -> None:
        """Draw this epoch's random seed (in the main process, so `set_seed` makes epochs repeatable)."""
        self.rng = random.Random(random.randint(0, 2**32 - 1))

    def before_iter(self) -> None:
        """Called at the start of an epoch, before the indices are drawn."""

    def get_idxs(self) -> list:
        """The indices of this epoch, in order (shuffled when `shuffle`)."""
        idxs = list(range(self.n)) if self.n is not None else None
        if idxs is not None and self.shuffle:
            idxs = self.shuffle_fn(idxs)
        return idxs

    def shuffle_fn(self, idxs: list) -> list:
        """A random permutation of `idxs` (drawn with torch from this epoch's seed: fast for large n)."""
        g = torch.Generator().manual_seed(self.rng.randint(0, 2**63 - 1))
        return [idxs[i] for i in torch.randperm(len(idxs), generator=g).tolist()]

    def sample(self, worker: int = 0, n_workers: int = 1) -> Iterable:
        """The indices this worker handles: whole batches `worker`, `worker + n_workers`, ..."""
        idxs = self._idxs if self._idxs is not None else itertools.count()
        if n_workers == 1:
            return idxs
        bs = self.bs or 1
        return (i for k, i in enumerate(idxs) if (k // bs) % n_workers == worker)

    # ---- items ------------------------------------------------------------------------
    def create_item(self, i: int) -> Any:
        """Item `i` of the dataset (for a dataset without indexing, `i` is the item itself)."""
        if self._arrays is not None:
            parts = tuple(a[i] for a in self._arrays)
            return parts[0] if len(parts) == 1 else parts
        return self.dataset[i] if self.indexed else i

    def after_item(self, item: Any) -> Any:
        """Called on each item after it is created."""
        return item

    def do_item(self, i: int) -> Any:
        """`after_item(create_item(i))`."""
        return self.after_item(self.create_item(i))

    # ---- batches ----------------------------------------------------------------------
    def chunkify(self, items: Iterable) -> Iterator[list]:
        """Group items into lists of `bs` (the last shorter unless `drop_last`)."""
        if self.bs is None:
            yield from ([o] for o in items)
            return
        it = iter(items)
        while True:
            chunk = list(itertools.islice(it, self.bs))
            if not chunk or (self.drop_last and len(chunk) < self.bs):
                return
            yield chunk

    def before_batch(self, items: list) -> list:
        """Called on the list of items of a batch before it is collated (e.g. to pad them)."""
        return items

    def create_batch(self, items: list) -> Any:
        """Collate a list of items into a batch (`bs=None`: the single item itself)."""
        return collate(items) if self.bs is not None else items[0]

    def retain(self, batch: Any, items: list) -> Any:
        """Give the batch's elements the semantic types of the items' elements."""
        return retain_types(batch, items[0] if isinstance(items[0], tuple) else None)

    def after_batch(self, batch: Any) -> Any:
        """Called on each batch once it is made."""
        return batch

    def do_batch(self, items: list) -> Any:
        """`after_batch(retain(create_batch(before_batch(items))))`."""
        return self.after_batch(self.retain(self.create_batch(self.before_batch(items)), items))

    def create_batches(self, samples: Iterable) -> Iterator:
        """Batches from the indices `samples`: sliced from memory on the fast path, else item by item."""
        if self.fast_path:
            order = torch.as_tensor(samples if isinstance(samples, list) else list(samples), dtype=torch.long)
            n, bs = len(order), self.bs or 1
            stop = n - n % bs if self.drop_last else n
            for start in range(0, stop, bs):
                yield self.after_batch(slice_arrays(self._arrays, order[start : start + bs]))
            return
        items = (self.do_item(i) for i in (samples if self.indexed else self.dataset))
        yield from (self.do_batch(b) for b in self.chunkify(items))

    def to_device(self, batch: Any) -> Any:
        """Move a batch to `device` (done in the main process, after the workers)."""
        return to_device(batch, self.device) if self.device is not None else batch

    def after_iter(self) -> None:
        """Called at the end of an epoch."""

    # ---- iteration --------------------------------------------------------------------
    def _worker_batches(self, worker: int, n_workers: int) -> Iterator:
        yield from self.create_batches(self.sample(worker, n_workers))

    def __iter__(self) -> Iterator:
        self.randomize()
        self.before_iter()
        self._idxs = self.get_idxs()
        if self.num_workers == 0:
            batches = self._worker_batches(0, 1)
            if self.pin_memory and torch.cuda.is_available():
                batches = (tud._utils.pin_memory.pin_memory(b) for b in batches)
        else:
            batches = tud.DataLoader(
                _Batches(self),
                batch_size=None,
                num_workers=self.num_workers,
                pin_memory=self.pin_memory,
                timeout=self.timeout,
                worker_init_fn=_seed_worker,
            )
        for b in batches:
            yield self.to_device(b)
        self.after_iter()

    def one_batch(self) -> Any:
        """The first batch of an epoch (in a single process)."""
        if self.n is not None and len(self) == 0:
            raise DataError(
                f"one_batch: this DataLoader has no full batch ({self.n} items, bs={self.bs}, "
                f"drop_last={self.drop_last})"
            )
        with self._single_process():
            return next(iter(self))

    def _single_process(self):
        return _Setting(self, "num_workers", 0)

    def new(self, dataset=None, **changes) -> DataLoader:
        """A copy with another dataset and/or changed settings, keeping replaced stages."""
        dl = copy.copy(self)
        if dataset is not None:
            dl.dataset, dl._arrays = dataset, as_arrays(dataset)
            dl.indexed = _is_indexed(dataset)
            dl.n = (len(dl._arrays[0]) if dl._arrays is not None else len(dataset)) if dl.indexed else None
        for k, v in changes.items():
            if k == "device":
                dl.device = v
            elif k in self._methods:
                setattr(dl, k, v)
            elif not hasattr(dl, k):
                raise TypeError(f"DataLoader.new: unknown setting {k!r}")
            else:
                setattr(dl, k, v)
        dl.rng = random.Random(self.rng.randint(0, 2**32 - 1))
        dl._idxs = None
        return dl

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={self.n}, bs={self.bs}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, num_workers={self.num_workers}, fast_path={self.fast_path})"
        )


def _seed_worker(worker_id: int) -> None:
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)


def _is_indexed(dataset) -> bool:
    return hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")


class _Setting:
    """Context manager: set an attribute for the duration of a block."""

    def __init__(self, obj, name, value):
        self.obj, self.name, self.value = obj, name, value

    def __enter__(self):
        self.old = getattr(self.obj, self.name)
        setattr(self.obj, self.name, self.value)

    def __exit__(self, *exc):
        setattr(self.obj, self.name, self.old)
