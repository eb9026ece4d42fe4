"""TfmdLists: a collection seen through a Pipeline, lazily, with train/valid subsets."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from layered.core.collection import L
from layered.core.item_errors import note_item_error
from layered.core.pipeline import Pipeline
from layered.core.registry import register_serializable
from layered.data._subsets import SubsetViews
from layered.data.errors import DataError
from layered.data.splitters import check_splits

__all__ = ["TfmdLists"]


def _is_int(i: Any) -> bool:
    """Whether `i` picks one item (an int, a NumPy integer, a 0-d array or tensor)."""
    if isinstance(i, (np.ndarray, torch.Tensor)):
        return i.ndim == 0
    return hasattr(i, "__index__") and not isinstance(i, bool)


def _as_items(items: Any, use_list: bool | None) -> Any:
    """DataFrames, and arrays/tensors unless `use_list`, stay as they are (indexed natively); the rest become an L."""
    if hasattr(items, "iloc"):
        return items
    if isinstance(items, (np.ndarray, torch.Tensor)) and not use_list:
        return items
    return L(items)


def _take(items: Any, idxs: list[int]) -> Any:
    """The items at positions `idxs`, in the same kind of container."""
    if hasattr(items, "iloc"):
        return items.iloc[idxs]
    if isinstance(items, np.ndarray):
        return items[np.asarray(idxs, dtype=np.int64)]
    if isinstance(items, torch.Tensor):
        return items[torch.as_tensor(idxs, dtype=torch.long)]
    return items[idxs]


def _with_split(pipe: Pipeline, split_idx: int | None) -> Pipeline:
    """`pipe` running as subset `split_idx`: a shallow copy sharing its transforms, if that differs."""
    if pipe.split_idx == split_idx:
        return pipe
    out = copy.copy(pipe)
    out.split_idx = split_idx
    return out


@register_serializable
class TfmdLists(SubsetViews):
    """`tl[i]` is `tfms(items[i])`, computed on access.

    `splits` (lists of indices) define subsets: `tl.train` (split 0) and `tl.valid` (split 1)
    share the pipeline but pass their `split_idx` to it, so train-only transforms skip the
    validation set. With `train_setup` the pipeline is set up on the training subset's items
    (otherwise on all of them). `use_list=True` turns an array or tensor of items into an L;
    `types` (a type or tuple of types) is what a transformed item must be, checked on the first
    training item at setup; `verbose` prints that item's type after each transform.
    """

    def __init__(
        self,
        items: Any,
        tfms: Any = None,
        use_list: bool | None = None,
        do_setup: bool = True,
        split_idx: int | None = None,
        train_setup: bool = True,
        splits: Any = None,
        types: type | tuple[type, ...] | None = None,
        verbose: bool = False,
    ):
        self.items = _as_items(items, use_list)
        self.use_list, self.types, self.verbose = use_list, types, verbose
        pipe = tfms if isinstance(tfms, Pipeline) else Pipeline(tfms)
        self.tfms = _with_split(pipe, split_idx)
        if splits is None:
            self.splits = L([L(range(len(self.items)))])
        else:
            check_splits(splits, len(self.items), name="TfmdLists splits")
            self.splits = L([L(int(i) for i in s) for s in splits])
        if do_setup:
            self.setup(train_setup)

    @property
    def split_idx(self) -> int | None:
        """Which subset this is (0 train, 1 valid, None: all items), passed to the transforms."""
        return self.tfms.split_idx

    def _item(self, i: int) -> Any:
        return self.items.iloc[i] if hasattr(self.items, "iloc") else self.items[i]

    def setup(self, train_setup: bool = True) -> None:
        """Set the pipeline up on the training items (the first split), or on all items."""
        idxs = self.splits[0] if train_setup else range(len(self.items))
        self.tfms.setup(_Raw(self, idxs), train_setup=train_setup)
        if (self.types is not None or self.verbose) and len(idxs):
            self._walk_first(idxs[0], 0 if train_setup else self.split_idx)

    def _walk_first(self, i: int, split_idx: int | None) -> None:
        """Run item `i` through each transform: print its type (`verbose`), then check it against `types`."""
        x = self._item(i)
        say = print if self.verbose else (lambda *a: None)
        say(f"TfmdLists: item {i} is {type(x).__name__}")
        for f in self.tfms.fs:
            x = f(x, split_idx=split_idx)
            say(f"  after {f.name}: {type(x).__name__}")
        if self.types is not None and not isinstance(x, self.types):
            want = self.types if isinstance(self.types, tuple) else (self.types,)
            raise DataError(
                f"TfmdLists: item {i} became {type(x).__name__} through {self.tfms!r}; "
                f"expected {' or '.join(t.__name__ for t in want)}"
            )

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: Any) -> Any:
        if _is_int(i):
            return self._transformed(int(i))
        # L resolves slices, lists, boolean masks, arrays and tensors of positions alike
        return L([self._transformed(j) for j in L(range(len(self)))[i]])

    def _transformed(self, i: int) -> Any:
        """Item `i` through the pipeline; an error carries a note naming the item and the transform."""
        x = self._item(i)
        try:
            return self.tfms(x)
        except Exception as e:
            note_item_error(e, i, x, f"{type(self).__name__} (split {self.split_idx}) {self.tfms!r}")
            raise

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def subset(self, i: int) -> TfmdLists:
        """Split `i` as its own TfmdLists (sharing the set-up transforms, with `split_idx=i`)."""
        if not 0 <= i < len(self.splits):
            raise DataError(f"subset {i} does not exist: these items have {len(self.splits)} splits")
        items = _take(self.items, list(self.splits[i]))
        return TfmdLists(
            items, self.tfms, use_list=self.use_list, do_setup=False, split_idx=i, types=self.types
        )

    def decode(self, o: Any, **kwargs) -> Any:
        """Undo the pipeline on a transformed value."""
        return self.tfms.decode(o, **kwargs)

    def show(self, o: Any, ctx: Any = None, **kwargs) -> Any:
        """Decode `o` until it can show itself, and show it on `ctx`."""
        return self.tfms.show(o, ctx=ctx, **kwargs)

    def new(self, items: Any, split_idx: int | None = None, **kwargs) -> TfmdLists:
        """The same (already set-up) pipeline over other items."""
        kwargs = {"use_list": self.use_list, "types": self.types, **kwargs}
        return TfmdLists(items, self.tfms, do_setup=False, split_idx=split_idx, **kwargs)

    def __repr__(self) -> str:
        sizes = [len(s) for s in self.splits]
        return f"TfmdLists: {len(self)} items (splits {sizes}) through {self.tfms!r}"


class _Raw:
    """The raw items at `idxs`, indexable: what `Pipeline.setup` maps through the transforms."""

    def __init__(self, tl: TfmdLists, idxs: Any):
        self.tl, self.idxs = tl, list(idxs)

    def __len__(self) -> int:
        return len(self.idxs)

    def __getitem__(self, j: int) -> Any:
        return self.tl._item(self.idxs[j])

    def source_index(self, j: int) -> int:
        """The index in the TfmdLists of the `j`th item here (what an error note names)."""
        return self.idxs[j]
