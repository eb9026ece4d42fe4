"""TfmdDL: a DataLoader whose item and batch stages are Pipelines, so its batches can be decoded and shown."""

from __future__ import annotations

from typing import Any

import torch

from layered.core.device import to_cpu
from layered.core.pipeline import Pipeline
from layered.core.registry import register_serializable
from layered.core.tensor_types import retain_type
from layered.data import show as shows
from layered.data.loader import DataLoader

__all__ = ["TfmdDL"]

_STAGES = ("after_item", "before_batch", "after_batch")


def _pipeline(tfms: Any, split_idx: int | None) -> Pipeline:
    """`tfms` (None, a transform or function, a list of them, or a Pipeline) as a new Pipeline for `split_idx`."""
    return Pipeline(list(tfms.fs) if isinstance(tfms, Pipeline) else tfms, split_idx=split_idx)


def _types_of(b: Any) -> Any:
    """The type of a batch, element-wise (recursively) for tuples."""
    return tuple(_types_of(o) for o in b) if isinstance(b, tuple) else type(b)


def _with_types(b: Any, types: Any) -> Any:
    """Give `b` the recorded `types`: tensors always take the recorded tensor type, other values where it is a subclass."""
    if isinstance(b, tuple) and isinstance(types, tuple):
        # elements beyond the record (extra outputs) are left as they are
        return tuple(_with_types(o, t) for o, t in zip(b, types)) + b[len(types) :]
    if isinstance(types, tuple):
        return b
    if isinstance(b, torch.Tensor) and isinstance(types, type) and issubclass(types, torch.Tensor):
        # the recorded type wins even over an unrelated one: a model's output inherits its
        # input's type (a TensorImage in, a "TensorImage" of points out) but decodes as the target
        return b if type(b) is types else b.as_subclass(types)
    return retain_type(b, typ=types)


@register_serializable
class TfmdDL(DataLoader):
    """A DataLoader running Pipelines at `after_item` (per item), `before_batch` and `after_batch`.

    Each of the three may be a transform, a function, a list of them or a Pipeline; each becomes
    a Pipeline for the dataset's `split_idx` (so train-only transforms skip a validation set).
    `n_inp` is how many elements of a batch are inputs (default: the dataset's `n_inp`, else 1).

    Setup: with `do_setup`, the `before_batch` then `after_batch` transforms are set up, one at a
    time, on this loader (`setups(dl)`). A `setups` may call `dl.one_batch()`; that batch then
    runs only the transforms already set up — `Normalize` computes its statistics that way.

    Decoding: the types of the first batch iterated are recorded in `_types` (taken from
    `one_batch()` if needed) and given back to a batch before decoding, so plain tensors (model
    outputs) decode like the batches they stand for.
    """

    def __init__(
        self,
        dataset: Any = None,
        bs: int | None = 64,
        shuffle: bool = False,
        after_item: Any = None,
        before_batch: Any = None,
        after_batch: Any = None,
        n_inp: int | None = None,
        do_setup: bool = True,
        **kwargs: Any,
    ):
        split_idx = getattr(dataset, "split_idx", None)
        stages = dict(zip(_STAGES, (after_item, before_batch, after_batch)))
        stages = {name: _pipeline(tfms, split_idx) for name, tfms in stages.items()}
        super().__init__(dataset, bs=bs, shuffle=shuffle, **stages, **kwargs)
        self.n_inp = n_inp if n_inp is not None else getattr(dataset, "n_inp", 1)
        self._types: Any = None
        if do_setup and self.n:
            self._setup_batch_pipelines()

    def _setup_batch_pipelines(self) -> None:
        pipes = [self.before_batch, self.after_batch]
        pending = [list(p.fs) for p in pipes]
        for p in pipes:
            p.fs = []
        for p, fs in zip(pipes, pending):
            for f in fs:
                f.setup(self)
                p.fs = [*p.fs, f]
        self._types = None  # a batch made during setup went through only part of the pipelines

    def _is_replaced(self, stage: str) -> bool:
        # An empty Pipeline does nothing, so it leaves the in-memory fast path available.
        value = self.__dict__.get(stage)
        if isinstance(value, Pipeline) and not len(value):
            return False
        return super()._is_replaced(stage)

    def __iter__(self):
        for b in super().__iter__():
            if self._types is None:
                self._types = _types_of(b)
            yield b

    def new(self, dataset: Any = None, **changes: Any) -> TfmdDL:
        """A copy over another dataset or with other settings; the Pipelines follow the new dataset's split."""
        dl = super().new(dataset, **{k: v for k, v in changes.items() if k not in _STAGES})
        split_idx = dl.split_idx
        for name in _STAGES:
            current = getattr(self, name)
            if name in changes or current.split_idx != split_idx:
                setattr(dl, name, _pipeline(changes.get(name, current), split_idx))
        if dataset is not None:
            dl._types = None
        return dl

    # ---- decoding ---------------------------------------------------------------------
    def _batch_types(self) -> Any:
        if self._types is None and self.n and len(self):
            self.one_batch()
        return self._types

    def _undo_batch(self, b: Any) -> Any:
        """Restore the recorded types, undo `after_batch` (then move to the CPU) and `before_batch`."""
        types = self._batch_types()
        b = _with_types(b, types) if types is not None else b
        return self.before_batch.decode(to_cpu(self.after_batch.decode(b)))

    def decode(self, b: Any) -> Any:
        """Undo the pipelines on a whole batch: `after_batch`, then `before_batch`, then `after_item`."""
        return self.after_item.decode(self._undo_batch(b))

    def _items(self, b: Any, max_n: int, full: bool) -> list:
        """Split a batch (batch pipelines undone) into at most `max_n` fully decoded item tuples."""
        items = zip(*(list(part[:max_n]) for part in (b if isinstance(b, tuple) else (b,))))
        decode_item = getattr(self.dataset, "decode", None)
        out = []
        for item in items:
            item = self.after_item.decode(item)
            out.append(decode_item(item, full=full) if decode_item is not None else item)
        return out

    def decode_batch(self, b: Any, max_n: int = 9, full: bool = True) -> list:
        """Decode a batch into a list of at most `max_n` item tuples, each decoded by the dataset too.

        `after_item` is undone item by item (its decodes may expect single items, e.g. one image).
        """
        return self._items(self._undo_batch(b), max_n, full)

    def _split(self, b: Any) -> tuple[Any, Any]:
        """Inputs and targets of a batch (a single one unwrapped; no targets: None)."""
        b = b if isinstance(b, tuple) else (b,)
        x, y = b[: self.n_inp], b[self.n_inp :]
        return (x[0] if len(x) == 1 else x), (y[0] if len(y) == 1 else (y or None))

    def show_batch(self, b: Any = None, max_n: int = 9, ctxs: Any = None, show: bool = True, **kwargs: Any):
        """Show decoded items of `b` (default: `one_batch()`), dispatched on the types of its x and y.

        With `show=False`, return the decoded items instead.
        """
        b = self.one_batch() if b is None else b
        undone = self._undo_batch(b)
        samples = self._items(undone, max_n, full=True)
        if not show:
            return samples
        x, y = self._split(undone)
        return shows.show_batch(x, y, samples, ctxs=ctxs, max_n=max_n, **kwargs)

    def show_results(
        self, b: Any, out: Any, max_n: int = 9, ctxs: Any = None, show: bool = True, **kwargs: Any
    ):
        """Show decoded items of `b` beside the decoded predictions `out` (the targets' part of a batch).

        With `show=False`, return `(samples, outs)` instead.
        """
        b, out = (b if isinstance(b, tuple) else (b,)), (out if isinstance(out, tuple) else (out,))
        inputs = b[: self.n_inp]
        undone = self._undo_batch(b)
        samples = self._items(undone, max_n, full=True)
        outs = [o[self.n_inp :] for o in self._items(self._undo_batch((*inputs, *out)), max_n, full=True)]
        if not show:
            return samples, outs
        x, y = self._split(undone)
        return shows.show_results(x, y, samples, outs, ctxs=ctxs, max_n=max_n, **kwargs)
