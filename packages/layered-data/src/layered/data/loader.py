"""DataLoader: PyTorch's loading machinery, with every stage a method you can replace.

Stages, in the order they run for one epoch; each can be replaced by a constructor keyword
(`DataLoader(ds, after_item=f)`) or by overriding it in a subclass:

- sample creation, in the main process: `randomize` (this epoch's generator `self.rng`),
  `before_iter`, `get_idxs` (which items, in which order) using `shuffle_fn`; then, in each
  worker, `sample` (the share of indices that worker turns into batches);
- item creation: `create_item` (`dataset[i]`), `after_item`, together `do_item`;
- batch creation: `create_batches` drives `chunkify` (group items by `bs`), then per batch
  `before_batch`, `create_batch` (collate), `retain` (keep semantic types), together `do_batch`
  (in the workers when `num_workers > 0`);
- placement and batch transforms, in the main process: `to_device`, then `after_batch` on the
  batch where it now lives (augmentation on the GPU when the device is one); and `after_iter`
  once the epoch is over. When the batches stay on the CPU and workers decode beside them,
  `after_batch` runs on the torch threads the workers leave free (`torch.get_num_threads()`
  minus `num_workers`, at least one): more would make its threads and the workers take turns
  on the same cores, which made two workers slower than none on two cores. At the end of the
  epoch, as the workers run out of batches to make, it takes the cores they leave.

Workers run at a lower scheduling priority than the main process (`worker_nice`, a Unix `nice`
increment, 10 by default; 0 keeps them level). The main process is the one the training step
waits on; the workers work ahead of it (torch prefetches two batches per worker). When they
share cores, equal priority let the workers fill the queue early and leave the main process
its batch transforms at the epoch's end, on one thread beside idle cores; given way to, the
main process keeps pace and the workers take the time it leaves. Where cores are free, the
priority changes nothing.

`after_batch_in_workers=True` is for training on the CPU: when the batches stay on the CPU
(`device` None or a CPU) and `num_workers > 0`, each worker runs `after_batch` on the batches it
collates, so CPU batch augmentation is shared by the workers (one torch thread each) instead of
running in the main process, beside the training step, on the cores the workers decode on. With
an accelerator as `device`, or no workers, the setting changes nothing.

Workers, pinned memory and prefetching are torch's own: the loader hands
`torch.utils.data.DataLoader` an iterable of whole batches (`batch_size=None`), and worker `w`
of `k` builds batches `w, w + k, ...`; torch takes them round robin, so batches come out in the
same order as with `num_workers=0`. With `persistent_workers`, the workers keep the loader as it
was on the first epoch; only each epoch's indices and seed reach them (through shared memory), so
use `new()` to change other settings. Each epoch, every worker seeds `random`, NumPy and torch
from a seed drawn from the epoch's generator `rng` (and its worker number), so an epoch's
augmentations depend only on the main process's generators, with or without persistent workers.

Data already in memory (tensors, arrays, numeric DataFrames; see `layered.data.in_memory`)
takes a fast path: each batch is one indexing operation per column, then `to_device` and `after_batch`.
It is chosen automatically, is turned off by replacing any per-item or per-batch stage that it
skips (`create_item` ... `do_batch`), and `in_memory=False` turns it off by hand.
"""

from __future__ import annotations

import copy
import functools
import itertools
import os
import random
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.utils.data as tud

from layered.core.device import to_device
from layered.core.item_errors import carry_note_from_worker, note_batch_error, note_item_error
from layered.core.method_kwargs import funcs_kwargs
from layered.core.registry import register_serializable
from layered.core.tensor_types import retain_types
from layered.data.collation import collate, convert
from layered.data.errors import DataError
from layered.data.in_memory import as_arrays, item_of, slice_arrays

__all__ = ["DataLoader"]

# The stages the fast path does not call: replacing one of them means per-item work is wanted.
_SKIPPED_BY_FAST_PATH = (
    "create_item",
    "after_item",
    "do_item",
    "chunkify",
    "before_batch",
    "create_batch",
    "retain",
    "do_batch",
)


class _Batches(tud.IterableDataset):
    """What torch iterates: in each worker, that worker's share of the loader's batches."""

    def __init__(self, dl: DataLoader, shared_idxs: torch.Tensor | None = None):
        self.dl, self.shared_idxs = dl, shared_idxs

    def __iter__(self) -> Iterator:
        info = tud.get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        seed = self.dl._worker_seed
        if self.shared_idxs is not None:
            # persistent workers keep their first copy of the loader: the epoch's seed and indices come from here
            n, seed = int(self.shared_idxs[0]), int(self.shared_idxs[1])
            self.dl._idxs = self.shared_idxs[2 : n + 2].tolist()
        if info is not None:
            _seed_epoch(seed, worker)
        batches = self.dl.create_batches(self.dl.sample(worker, n_workers))
        return map(self.dl.after_batch, batches) if self.dl._after_batch_in_workers else batches


class _Permutation(Sequence):
    """A shuffled order of the indices 0..n-1, held as a tensor; read as Python ints only on demand."""

    def __init__(self, order: torch.Tensor):
        self.tensor, self._ints = order, None

    def _list(self) -> list:
        if self._ints is None:
            self._ints = self.tensor.tolist()
        return self._ints

    def __len__(self) -> int:
        return len(self.tensor)

    def __getitem__(self, i):
        return self._list()[i]

    def __iter__(self) -> Iterator[int]:
        return iter(self._list())


def _index_tensor(idxs: Iterable) -> torch.Tensor:
    """Item indices as an int64 tensor, converting as little as possible."""
    if isinstance(idxs, _Permutation):
        return idxs.tensor
    if isinstance(idxs, range):
        return torch.arange(idxs.start, idxs.stop, idxs.step)
    if isinstance(idxs, torch.Tensor):
        return idxs
    # np.fromiter reads a list of ints several times faster than torch.as_tensor does
    return torch.from_numpy(np.fromiter(idxs, dtype=np.int64))


@funcs_kwargs
@register_serializable(exclude=("rng",))  # a new generator is drawn every epoch: not worth a file's bytes
class DataLoader:
    """Batches of `bs` items from `dataset`: anything with `len` and `[i]`, or an iterable.

    `n` is the number of items per epoch (default `len(dataset)`); `indexed=False` reads the
    dataset by iterating it. `in_memory` forces the in-memory fast path on (True, which also
    accepts a list of columns) or off (False); None chooses it from the dataset's type.
    `after_batch_in_workers`: run `after_batch` in the workers when batches stay on the CPU;
    `worker_nice`: how much lower the workers' scheduling priority is (see the module doc).
    """

    # class defaults as well as instance settings: loaders in files exported before a setting existed lack it
    after_batch_in_workers = False
    worker_nice = 10

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
        dataset: Any = None,
        bs: int | None = 64,
        shuffle: bool = False,
        drop_last: bool = False,
        num_workers: int = 0,
        pin_memory: bool = False,
        timeout: float = 0,
        persistent_workers: bool = False,
        device: str | torch.device | None = None,
        n: int | None = None,
        indexed: bool | None = None,
        in_memory: bool | None = None,
        after_batch_in_workers: bool = False,
        worker_nice: int = 10,
        **kwargs: Any,
    ):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}; the replaceable "
                f"stages are {', '.join(self._methods)}"
            )
        self.bs, self.shuffle, self.drop_last = bs, shuffle, drop_last
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.timeout, self.persistent_workers = timeout, persistent_workers
        self.device = device
        self.in_memory = in_memory
        self.after_batch_in_workers, self.worker_nice = after_batch_in_workers, worker_nice
        self.rng = random.Random()  # replaced at the start of every epoch by `randomize`
        self._idxs: Sequence | None = None
        self._worker_seed = 0  # drawn from `rng` every epoch, for the workers' generators
        self._persistent: tuple | None = None  # (torch loader, shared indices, finalizer)
        self._set_dataset(dataset, indexed, n)
        self._check()

    def _set_dataset(self, dataset: Any, indexed: bool | None, n: int | None) -> None:
        self.dataset = dataset
        self._arrays = None if self.in_memory is False else as_arrays(dataset, lists=self.in_memory is True)
        if self.in_memory and self._arrays is None:
            raise DataError(
                f"{type(self).__name__}: in_memory=True, but the dataset ({type(dataset).__name__}) is "
                "not a tensor, array, numeric DataFrame, or a tuple/list of those of one length"
            )
        has_len = self._arrays is not None or hasattr(dataset, "__len__")
        self.indexed = (
            (dataset is None or (has_len and hasattr(dataset, "__getitem__"))) if indexed is None else indexed
        )
        if n is None and self.indexed:
            if not has_len:
                raise DataError(
                    f"{type(self).__name__}: give n, the number of items (the dataset has no len)"
                )
            n = len(self._arrays[0]) if self._arrays is not None else len(dataset)
        self.n = n

    def _check(self) -> None:
        name = type(self).__name__
        if self.bs is not None and (not isinstance(self.bs, int) or self.bs < 1):
            raise DataError(f"{name}: bs must be a positive integer or None, got {self.bs!r}")
        if not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise DataError(f"{name}: num_workers must be an integer >= 0, got {self.num_workers!r}")
        nice = self.worker_nice
        if not isinstance(nice, int) or isinstance(nice, bool) or not 0 <= nice <= 19:
            # a negative increment (a higher priority than the main process) needs privileges
            raise DataError(f"{name}: worker_nice must be an integer from 0 to 19, got {self.worker_nice!r}")
        if self.n is not None and self.n < 0:
            raise DataError(f"{name}: n must be >= 0, got {self.n}")
        if not self.indexed and (self.num_workers or self.shuffle):
            raise DataError(
                f"{name}: a dataset read by iteration ({type(self.dataset).__name__}, without len and "
                "indexing) needs num_workers=0 and shuffle=False"
            )

    # ---- settings ---------------------------------------------------------------------
    @property
    def device(self) -> torch.device | None:
        """Where batches are placed (None: left where they were made)."""
        return self._device

    @device.setter
    def device(self, device: str | torch.device | None) -> None:
        self._device = None if device is None else torch.device(device)

    def to(self, device: str | torch.device | None) -> DataLoader:
        """Place batches on `device`; returns self."""
        self.device = device
        return self

    @property
    def _after_batch_in_workers(self) -> bool:
        """Whether this epoch's `after_batch` runs in the workers rather than in the main process."""
        on_cpu = self.device is None or self.device.type == "cpu"
        return bool(self.after_batch_in_workers and self.num_workers and on_cpu)

    @property
    def _beside_workers_on_cpu(self) -> bool:
        """Whether the main process's batch transforms share the CPU cores with the workers."""
        return bool(self.num_workers) and (self.device is None or self.device.type == "cpu")

    @property
    def split_idx(self) -> int | None:
        """The dataset's subset index (0 train, 1 valid), or None when it has none."""
        return getattr(self.dataset, "split_idx", None)

    def _is_replaced(self, stage: str) -> bool:
        """Whether `stage` was replaced, by keyword or in a subclass."""
        return stage in self.__dict__ or getattr(type(self), stage) is not getattr(DataLoader, stage)

    @property
    def fast_path(self) -> bool:
        """Whether batches are sliced from in-memory columns rather than built item by item."""
        return (
            self._arrays is not None
            and self.bs is not None
            and not any(self._is_replaced(s) for s in _SKIPPED_BY_FAST_PATH)
        )

    def __len__(self) -> int:
        if self.n is None:
            raise TypeError(f"{type(self).__name__} iterates a dataset of unknown length (give n)")
        if self.bs is None:
            return self.n
        return self.n // self.bs if self.drop_last else -(-self.n // self.bs)

    # ---- sample creation --------------------------------------------------------------
    def randomize(self) -> None:
        """Seed this epoch's generator `self.rng` from Python's `random`, so `set_seed` repeats epochs."""
        self.rng = random.Random(random.getrandbits(64))

    def before_iter(self) -> None:
        """Called in the main process at the start of an epoch, before the indices are drawn."""

    def get_idxs(self) -> Sequence | None:
        """This epoch's item indices, in order (a sequence of ints, shuffled when `shuffle`, else a range); None for an iterable dataset."""
        if not self.indexed:
            return None
        idxs = range(self.n)
        return self.shuffle_fn(idxs) if self.shuffle else idxs

    def shuffle_fn(self, idxs: Sequence) -> Sequence:
        """`idxs` in a random order drawn from `self.rng` (a torch permutation: fast for large n)."""
        g = torch.Generator().manual_seed(self.rng.getrandbits(63))
        order = torch.randperm(len(idxs), generator=g)
        # shuffling 0..n-1 needs no look-up: the permutation is the answer, kept as a tensor
        # (the fast path slices it as it is; Python ints are made only if something reads them)
        return _Permutation(order) if idxs == range(len(idxs)) else [idxs[i] for i in order.tolist()]

    def sample(self, worker: int = 0, n_workers: int = 1) -> Iterable:
        """The indices worker `worker` of `n_workers` batches: those of batches `worker`, `worker + n_workers`, ...

        For a dataset read by iteration, its items themselves (at most `n`).
        """
        if not self.indexed:
            return self.dataset if self.n is None else itertools.islice(self.dataset, self.n)
        if n_workers == 1:
            return self._idxs
        bs = self.bs or 1
        return [i for k, i in enumerate(self._idxs) if k // bs % n_workers == worker]

    # ---- items ------------------------------------------------------------------------
    def create_item(self, i: Any) -> Any:
        """Item `i` of the dataset (for a dataset read by iteration, `i` is the item itself)."""
        if self._arrays is not None:
            return item_of(self._arrays, i)
        return self.dataset[i] if self.indexed else i

    def after_item(self, item: Any) -> Any:
        """Called on each item once it is created (identity by default)."""
        return item

    def do_item(self, i: Any) -> Any:
        """`after_item(create_item(i))`."""
        return self.after_item(self.create_item(i))

    # ---- batches ----------------------------------------------------------------------
    def chunkify(self, items: Iterable) -> Iterator[list]:
        """Group items into lists of `bs` (the last one shorter, or dropped with `drop_last`)."""
        it = iter(items)
        size = self.bs or 1
        while chunk := list(itertools.islice(it, size)):
            if self.drop_last and len(chunk) < size:
                return
            yield chunk

    def before_batch(self, items: list) -> list:
        """Called on a batch's list of items before they are collated (e.g. to pad them)."""
        return items

    def create_batch(self, items: list) -> Any:
        """Collate the items into a batch (`bs=None`: the single item, arrays made tensors)."""
        return collate(items) if self.bs is not None else convert(items[0])

    def retain(self, batch: Any, items: list) -> Any:
        """Give the batch (element-wise for tuples) the semantic types of the first item."""
        return retain_types(batch, items[0])

    def after_batch(self, batch: Any) -> Any:
        """Called on each batch in the main process once it is on `device` (identity by default)."""
        return batch

    def do_batch(self, items: list) -> Any:
        """`retain(create_batch(before_batch(items)), items)`: the collated batch, before placement."""
        items = self.before_batch(items)
        return self.retain(self.create_batch(items), items)

    def create_batches(self, samples: Iterable) -> Iterator:
        """The collated batches of `samples` (sliced from memory on the fast path, else item by item), before placement."""
        if self.fast_path:
            # consecutive items (an unshuffled epoch) are copied as a block, twice as fast as gathered
            block = isinstance(samples, range) and samples.step == 1
            order = None if block else _index_tensor(samples)
            n = len(samples) if block else len(order)
            stop = n - n % self.bs if self.drop_last else n
            for start in range(0, stop, self.bs):
                if block:
                    rows = slice(samples.start + start, samples.start + min(start + self.bs, n))
                else:
                    rows = order[start : start + self.bs]
                yield slice_arrays(self._arrays, rows)
            return
        # the indices read since the last batch name its items if collation fails (not known when
        # items are iterated, or when a replaced `chunkify` may reorder them)
        taken: list | None = [] if self.indexed and not self._is_replaced("chunkify") else None
        made = self._made_items(samples if taken is None else _recording(samples, taken))
        for items in self.chunkify(made):
            yield self._batch_noted(items, None if taken is None else taken[-len(items) :])
            if taken is not None:
                taken.clear()

    def _made_items(self, samples: Iterable) -> Iterator:
        """`do_item` over `samples`, an error noted with the item's index; default stages cost no calls of their own."""
        stages = ("do_item", "create_item")
        if self._arrays is not None or not self.indexed or any(self._is_replaced(s) for s in stages):
            return map(self._noted(self.do_item, "do_item"), samples)
        made = self.dataset.__getitem__
        if self._is_replaced("after_item"):
            after = self.after_item
            return map(self._noted(lambda i: after(made(i)), "reading or after_item"), samples)
        return map(self._noted(made, "reading"), samples)

    def _batch_noted(self, items: list, indices: list | None) -> Any:
        """`do_batch(items)`, an error given the note naming the batch's items by index (when known)."""
        try:
            return self.do_batch(items)
        except Exception as e:
            note_batch_error(e, indices, f"{type(self).__name__}.do_batch")
            raise

    def _noted(self, make: Any, stage: str) -> Any:
        """`make(i)`, with an error given the note naming item `i` and the loader's stage."""
        where = f"{type(self).__name__}.{stage}"

        def noted(i: Any) -> Any:
            try:
                return make(i)
            except Exception as e:
                note_item_error(e, i if self.indexed else "(iterated)", i, where)
                raise

        return noted

    def to_device(self, batch: Any) -> Any:
        """Move a batch to `device` (in the main process, after the workers); no-op when None."""
        if self.device is None:
            return batch
        return to_device(batch, self.device, non_blocking=self.pin_memory)

    def after_iter(self) -> None:
        """Called in the main process once an epoch has been fully iterated."""

    # ---- iteration --------------------------------------------------------------------
    def _batches(self) -> Iterable:
        """This epoch's batches, from torch's loader when workers or pinning are asked for."""
        pin = self.pin_memory and torch.accelerator.is_available()  # pinning needs an accelerator
        if self.num_workers == 0 and not pin:
            return self.create_batches(self.sample(0, 1))
        if self.persistent_workers and self.num_workers:
            return self._persistent_loader(pin)
        return tud.DataLoader(
            _Batches(self),
            batch_size=None,
            num_workers=self.num_workers,
            pin_memory=pin,
            timeout=self.timeout if self.num_workers else 0,
            worker_init_fn=functools.partial(_start_worker, nice=self.worker_nice),
            collate_fn=_unchanged,
        )

    def _persistent_loader(self, pin: bool) -> tud.DataLoader:
        """The one torch loader whose workers live across epochs; the epoch's (integer) indices go to shared memory."""
        idxs = _index_tensor(self._idxs)
        if self._persistent is None or len(self._persistent[1]) < len(idxs) + 2:
            if self._persistent is not None:
                self._persistent[2]()  # a longer epoch: the old workers stop, new ones start
            shared = torch.empty(len(idxs) + 2, dtype=torch.long).share_memory_()
            loader = tud.DataLoader(
                # a copy, not self: self holding a loader that holds self would be a cycle, and torch
                # shuts down workers collected in a cycle only after a timeout of seconds per worker
                _Batches(copy.copy(self), shared),
                batch_size=None,
                num_workers=self.num_workers,
                pin_memory=pin,
                timeout=self.timeout,
                worker_init_fn=functools.partial(_start_worker, nice=self.worker_nice),
                collate_fn=_unchanged,
                persistent_workers=True,
            )
            # the workers are stopped when this loader goes, even inside a reference cycle (a Learner
            # and its callbacks): collected as garbage, torch's iterator waits out timeouts instead
            self._persistent = (loader, shared, weakref.finalize(self, _stop_workers, loader))
        loader, shared, _ = self._persistent
        shared[0], shared[1] = len(idxs), self._worker_seed
        shared[2 : len(idxs) + 2] = idxs
        return loader

    def __iter__(self) -> Iterator:
        self.randomize()
        self.before_iter()
        self._idxs = self.get_idxs()
        # every epoch's workers, persistent or not, start their generators from this seed: the
        # epoch's augmentations depend only on the main process's generators (so resume is exact)
        self._worker_seed = self.rng.getrandbits(62)
        place = self.to_device if self._needs_placing() else None
        # batch transforms run here, in the main process, on the batch already on its device
        in_workers = self._after_batch_in_workers
        after = self.after_batch if self._is_replaced("after_batch") and not in_workers else None
        # beside workers on the CPU, torch threads beyond those the workers leave would only contend with them
        beside = after is not None and self._beside_workers_on_cpu
        threads, n_batches = torch.get_num_threads(), None if self.n is None else len(self)
        for i, b in enumerate(self._from_workers(self._batches())):
            if place is not None:
                b = place(b)
            if beside:
                b = _on_threads(after, _threads_beside_workers(i, n_batches, threads, self.num_workers), b)
            elif after is not None:
                b = after(b)
            yield b
        self.after_iter()

    def _from_workers(self, batches: Iterable) -> Iterator:
        """`batches`, with an error re-raised from a worker given back its item's note."""
        if not self.num_workers:
            return iter(batches)
        return _carrying_notes(batches)

    def make_batch(self, samples: Iterable) -> Any:
        """The first batch of `samples` (item indices) as iteration gives it: collated, placed, `after_batch` applied."""
        return self.after_batch(self.to_device(next(iter(self.create_batches(samples)))))

    def _needs_placing(self) -> bool:
        """Whether batches go through `to_device`: not when it would leave them as they are, that is
        with no device, or on the fast path when the columns sliced are already there."""
        if self._is_replaced("to_device"):
            return True
        if self.device is None:
            return False
        return not (self.fast_path and all(a.device == self.device for a in self._arrays))

    def one_batch(self) -> Any:
        """The first batch of an epoch, made in this process."""
        if self.n is not None and len(self) == 0:
            raise DataError(
                f"one_batch: this {type(self).__name__} makes no batch ({self.n} items, bs={self.bs}, "
                f"drop_last={self.drop_last})"
            )
        num_workers, self.num_workers = self.num_workers, 0
        try:
            it = iter(self)
            b = next(it)
            it.close()
        finally:
            self.num_workers = num_workers
        return b

    def new(self, dataset: Any = None, **changes: Any) -> DataLoader:
        """A copy over another dataset and/or with changed settings or stages; replaced stages are kept."""
        dl = copy.copy(self)
        dl._idxs = None
        data_settings = {"indexed", "n", "in_memory"}
        for k, v in changes.items():
            if k in data_settings:
                continue
            settable = k in self._methods or k == "device" or (k in vars(self) and not k.startswith("_"))
            if not settable:
                raise TypeError(f"{type(self).__name__}.new: unknown setting {k!r}")
            if k in self._methods and not callable(v):
                raise TypeError(f"{type(self).__name__}.new: {k}= must be callable, got {type(v).__name__}")
            setattr(dl, k, v)
        if dataset is not None or data_settings & changes.keys():
            dl.in_memory = changes.get("in_memory", self.in_memory)
            same = dataset is None
            dl._set_dataset(
                self.dataset if same else dataset,
                changes.get("indexed", self.indexed if same else None),
                changes.get("n", self.n if same else None),
            )
        dl._check()
        return dl

    def __getstate__(self) -> dict:
        # live worker processes cannot be copied or pickled; a copy starts its own when it needs them
        return {**self.__dict__, "_persistent": None}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={self.n}, bs={self.bs}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, num_workers={self.num_workers}, device={self.device}, "
            f"fast_path={self.fast_path})"
        )


def _recording(samples: Iterable, taken: list) -> Iterator:
    """Iterate `samples`, appending each to `taken` as it is handed out."""
    for i in samples:
        taken.append(i)
        yield i


def _carrying_notes(batches: Iterable) -> Iterator:
    """Iterate `batches` from torch's loader; a worker's error gets its item note back (torch keeps only the text)."""
    it = iter(batches)
    while True:
        try:
            b = next(it)
        except StopIteration:
            return
        except Exception as e:
            carry_note_from_worker(e)
            raise
        yield b


def _stop_workers(loader: tud.DataLoader) -> None:
    """Shut down the persistent workers of torch's `loader` now, while everything they use is alive."""
    it = getattr(loader, "_iterator", None)
    if it is not None and hasattr(it, "_shutdown_workers"):
        it._shutdown_workers()
    loader._iterator = None


def _on_threads(f: Callable[[Any], Any], n: int, batch: Any) -> Any:
    """`f(batch)` with torch on `n` threads (the number it had is given back afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        return f(batch)
    finally:
        torch.set_num_threads(threads)


def _threads_beside_workers(i: int, n_batches: int | None, threads: int, workers: int) -> int:
    """Torch threads for the main process's batch `i` while `workers` decode beside it on `threads` cores.

    Workers make batches in turn, so when batch `i` of `n_batches` arrives at most the
    `n_batches - 1 - i` batches still to come are being made: as the epoch ends, fewer workers
    are busy and the batch transforms take the cores they leave.
    """
    busy = workers if n_batches is None else max(0, min(workers, n_batches - 1 - i))
    return max(1, threads - busy)


def _unchanged(batch: Any) -> Any:
    """torch's collate for ready-made batches: torch's default would turn tuples into lists."""
    return batch


def _seed_epoch(seed: int, worker: int) -> None:
    """Seed `random`, NumPy and torch in worker `worker` for this epoch from the epoch's `seed`."""
    seed = (seed + 1_000_003 * worker) % 2**62
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _start_worker(worker_id: int, nice: int) -> None:
    """Lower a new worker's priority by `nice` (where the OS has `nice`); seed `random` and NumPy
    from torch's per-worker seed, so augmentations differ by worker."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
