"""TfmdLists: a collection seen through a Pipeline, lazily, with train/valid subsets."""

from __future__ import annotations

import copy
from typing import Any

from layered.core.collection import L
from layered.core.pipeline import Pipeline
from layered.data.errors import DataError

__all__ = ["TfmdLists"]


def _is_int(i: Any) -> bool:
    return hasattr(i, "__index__") and not isinstance(i, bool)


class TfmdLists:
    """`tl[i]` is `tfms(items[i])`, computed on access.

    `splits` (lists of indices) define subsets: `tl.train` (split 0) and `tl.valid` (split 1)
    share the pipeline but pass their `split_idx` to it, so train-only transforms skip the
    validation set. The pipeline is set up on the training subset's items.
    """

    def __init__(
        self,
        items,
        tfms=None,
        do_setup: bool = True,
        split_idx: int | None = None,
        train_setup: bool = True,
        splits=None,
        types=None,
        verbose: bool = False,
    ):
        self.items = items if hasattr(items, "iloc") else L(items)
        self.tfms = tfms if isinstance(tfms, Pipeline) else Pipeline(tfms, split_idx=split_idx)
        if split_idx is not None:
            self.tfms = _with_split(self.tfms, split_idx)
        self.split_idx = split_idx
        self.splits = L([L(s) for s in splits]) if splits is not None else L([L(range(len(self.items)))])
        self.types = types
        if do_setup:
            self.setup(train_setup)

    def _item(self, i: int):
        return self.items.iloc[i] if hasattr(self.items, "iloc") else self.items[i]

    def setup(self, train_setup: bool = True) -> None:
        """Set the pipeline up on the training items (the first split)."""
        train = _Subset(self, self.splits[0]) if train_setup else _Subset(self, range(len(self.items)))
        self.tfms.setup(train, train_setup=train_setup)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        if _is_int(i):
            return self.tfms(self._item(int(i)))
        idxs = range(len(self))[i] if isinstance(i, slice) else i
        return L([self.tfms(self._item(int(j))) for j in idxs])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def subset(self, i: int) -> TfmdLists:
        """Split `i` as its own TfmdLists (sharing the set-up transforms, with `split_idx=i`)."""
        if i >= len(self.splits):
            raise DataError(f"subset {i} does not exist: these items have {len(self.splits)} splits")
        idxs = list(self.splits[i])
        items = self.items.iloc[idxs] if hasattr(self.items, "iloc") else self.items[idxs]
        return TfmdLists(items, self.tfms, do_setup=False, split_idx=i)

    @property
    def subsets(self) -> list[TfmdLists]:
        """Every split as a TfmdLists."""
        return [self.subset(i) for i in range(len(self.splits))]

    @property
    def n_subsets(self) -> int:
        """Number of splits."""
        return len(self.splits)

    @property
    def train(self) -> TfmdLists:
        """The training subset (split 0)."""
        return self.subset(0)

    @property
    def valid(self) -> TfmdLists:
        """The validation subset (split 1)."""
        return self.subset(1)

    def decode(self, o: Any, **kwargs) -> Any:
        """Undo the pipeline on a transformed value."""
        return self.tfms.decode(o, **kwargs)

    def show(self, o: Any, ctx=None, **kwargs) -> Any:
        """Decode `o` and show it."""
        return self.tfms.show(o, ctx=ctx, **kwargs)

    def new(self, items, split_idx: int | None = None, **kwargs) -> TfmdLists:
        """The same (already set-up) pipeline over other items."""
        return TfmdLists(items, self.tfms, do_setup=False, split_idx=split_idx, **kwargs)

    def __repr__(self) -> str:
        return f"TfmdLists: {len(self)} items through {self.tfms!r}"


def _with_split(pipe: Pipeline, split_idx: int) -> Pipeline:
    if pipe.split_idx == split_idx:
        return pipe
    out = copy.copy(pipe)
    out.split_idx = split_idx
    return out


class _Subset:
    """The raw items of a split, indexable: what `Pipeline.setup` maps through the transforms."""

    def __init__(self, tl: TfmdLists, idxs):
        self.tl, self.idxs = tl, list(idxs)

    def __len__(self) -> int:
        return len(self.idxs)

    def __getitem__(self, j: int):
        return self.tl._item(self.idxs[j])
