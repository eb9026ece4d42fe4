"""TfmdDL: a DataLoader that runs Pipelines per item and per batch, and can decode and show batches."""

from __future__ import annotations

from typing import Any

from layered.core.collection import L
from layered.core.device import to_cpu
from layered.core.pipeline import Pipeline
from layered.core.tensor import retain_types
from layered.data import show as show_dispatch
from layered.data.loader import DataLoader

__all__ = ["TfmdDL"]

_STAGES = ("after_item", "before_batch", "after_batch")


def _pipeline(tfms, split_idx) -> Pipeline:
    return tfms if isinstance(tfms, Pipeline) else Pipeline(tfms, split_idx=split_idx)


class TfmdDL(DataLoader):
    """A DataLoader whose `after_item`, `before_batch` and `after_batch` stages are Pipelines.

    The batch pipelines are set up once, on this loader, when it is built (`do_setup`): a
    transform's `setups(dl)` may call `dl.one_batch()`, which then runs only the transforms
    before it (e.g. `Normalize` computing statistics from a batch).
    """

    def __init__(
        self,
        dataset=None,
        bs: int | None = 64,
        shuffle: bool = False,
        after_item=None,
        before_batch=None,
        after_batch=None,
        do_setup: bool = True,
        n_inp: int | None = None,
        **kwargs,
    ):
        split_idx = getattr(dataset, "split_idx", None)
        pipes = {"after_item": after_item, "before_batch": before_batch, "after_batch": after_batch}
        pipes = {k: _pipeline(v, split_idx) for k, v in pipes.items()}
        super().__init__(dataset, bs=bs, shuffle=shuffle, **pipes, **kwargs)
        self.n_inp = n_inp if n_inp is not None else getattr(dataset, "n_inp", 1)
        if do_setup:
            self._setup_batch_pipeline()

    @property
    def split_idx(self) -> int | None:
        """Which subset the dataset is (0 train, 1 valid), passed to the transforms."""
        return getattr(self.dataset, "split_idx", None)

    def _setup_batch_pipeline(self) -> None:
        pipe = self.after_batch
        fs, pipe.fs = list(pipe.fs), L()
        for f in fs:
            if f._setups.entries and self.n:
                f.setup(self)
            pipe.fs = L([*pipe.fs, f])

    def new(self, dataset=None, **changes) -> TfmdDL:
        """A copy over another dataset or with other settings; the pipelines follow its split."""
        dl = super().new(dataset, **changes)
        if dataset is not None:
            dl.__dict__.pop("_item_types", None)
        split_idx = getattr(dl.dataset, "split_idx", None)
        for name in _STAGES:
            pipe = getattr(dl, name)
            if isinstance(pipe, Pipeline) and pipe.split_idx != split_idx:
                new = Pipeline(list(pipe.fs), split_idx=split_idx)
                setattr(dl, name, new)
        return dl

    @property
    def item_types(self) -> tuple | None:
        """The types of the elements of one item (read once from the dataset), used to decode."""
        if "_item_types" not in self.__dict__:
            first = self.dataset[0] if self.indexed and self.n else None
            self._item_types = tuple(type(o) for o in first) if isinstance(first, tuple) else None
        return self._item_types

    def decode(self, b: Any) -> Any:
        """Undo the batch pipelines (on the CPU); elements get back their semantic types first.

        That is what lets plain predictions (e.g. an argmax) decode like targets (to labels).
        """
        types = self.item_types
        if isinstance(b, tuple) and types is not None and len(b) == len(types):
            b = retain_types(b, typs=types)
        return self.before_batch.decode(to_cpu(self.after_batch.decode(b)))

    def decode_batch(self, b: Any, max_n: int = 9, full: bool = True) -> list:
        """Decode a batch into a list of at most `max_n` decoded items."""
        b = self.decode(b)
        b = b if isinstance(b, tuple) else (b,)
        items = list(zip(*[list(x)[:max_n] for x in b]))
        items = [self.after_item.decode(it) for it in items]
        decode = getattr(self.dataset, "decode", None)
        return [decode(it, full=full) if decode is not None else it for it in items]

    def _split(self, b: Any) -> tuple[Any, Any]:
        b = b if isinstance(b, tuple) else (b,)
        x = b[: self.n_inp]
        y = b[self.n_inp :]
        return (x[0] if len(x) == 1 else x), (y[0] if len(y) == 1 else (y or None))

    def show_batch(self, b=None, max_n: int = 9, ctxs=None, show: bool = True, **kwargs):
        """Show decoded items of a batch, dispatched on the types of the batch's inputs and targets."""
        b = self.one_batch() if b is None else b
        samples = self.decode_batch(b, max_n=max_n)
        if not show:
            return samples
        x, y = self._split(self.decode(b))
        return show_dispatch.show_batch(x, y, samples, ctxs=ctxs, max_n=max_n, **kwargs)

    def show_results(self, b: Any, out: Any, max_n: int = 9, ctxs=None, show: bool = True, **kwargs):
        """Show inputs, targets and decoded predictions `out` of a batch side by side."""
        b = b if isinstance(b, tuple) else (b,)
        out = out if isinstance(out, tuple) else (out,)
        x_part = b[: self.n_inp]
        inputs = self.decode_batch((*x_part, *b[self.n_inp :]), max_n=max_n)
        outs = self.decode_batch((*x_part, *out), max_n=max_n)
        outs = [o[self.n_inp :] for o in outs]
        if not show:
            return inputs, outs
        x, y = self._split(self.decode(b))
        return show_dispatch.show_results(x, y, inputs, outs, ctxs=ctxs, max_n=max_n, **kwargs)
