"""Datasets: several pipelines in parallel over one collection, giving `(x, y, ...)` tuples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from layered.core.collection import L
from layered.core.pipeline import Pipeline
from layered.core.registry import register_serializable
from layered.data._subsets import SubsetViews
from layered.data.dataloaders import DataLoaders
from layered.data.errors import DataError
from layered.data.tfmd_lists import TfmdLists

__all__ = ["Datasets", "test_set"]


def _is_int(i: Any) -> bool:
    if isinstance(i, (np.ndarray, torch.Tensor)):
        return i.ndim == 0
    return hasattr(i, "__index__") and not isinstance(i, bool)


@register_serializable
class Datasets(SubsetViews):
    """`ds[i]` is `(tfms[0](items[i]), tfms[1](items[i]), ...)`; the first `n_inp` are inputs.

    `tfms` is one list of transforms per element, e.g. `[[get_x, ...], [get_y, Categorize()]]`;
    other keyword arguments (`splits`, `split_idx`, `use_list`, ...) go to each `TfmdLists`.
    `n_inp` defaults to all elements but the last (at least one); `dl_type` is the loader class
    `dataloaders` builds.
    """

    def __init__(
        self,
        items: Any = None,
        tfms: Any = None,
        tls: list[TfmdLists] | None = None,
        n_inp: int | None = None,
        dl_type: type | None = None,
        **kwargs,
    ):
        if tls is None:
            if items is None:
                raise DataError("Datasets needs items (with tfms) or tls")
            pipes = list(tfms) if isinstance(tfms, (list, tuple, L)) and tfms else [tfms]
            tls = [TfmdLists(items, t, **kwargs) for t in pipes]
        self.tls = list(tls)
        if not self.tls:
            raise DataError("Datasets needs at least one pipeline")
        lengths = [len(tl) for tl in self.tls]
        if len(set(lengths)) > 1:
            raise DataError(f"Datasets: the pipelines' lists have different lengths {lengths}")
        self.n_inp = n_inp if n_inp is not None else max(1, len(self.tls) - 1)
        if not 1 <= self.n_inp <= len(self.tls):
            raise DataError(
                f"Datasets: n_inp={self.n_inp} must be between 1 and the {len(self.tls)} pipelines"
            )
        self.dl_type = dl_type

    @property
    def items(self) -> Any:
        """The raw items."""
        return self.tls[0].items

    @property
    def splits(self) -> L:
        """The index lists of each subset."""
        return self.tls[0].splits

    @property
    def split_idx(self) -> int | None:
        """Which subset this is (None for the full set)."""
        return self.tls[0].split_idx

    def __len__(self) -> int:
        return len(self.tls[0])

    def __getitem__(self, i: Any) -> tuple | L:
        res = tuple(tl[i] for tl in self.tls)
        return res if _is_int(i) else L(zip(*res))

    def __iter__(self) -> Iterator[tuple]:
        return (self[i] for i in range(len(self)))

    def subset(self, i: int) -> Datasets:
        """Subset `i` (0: train, 1: valid) as Datasets."""
        return Datasets(tls=[tl.subset(i) for tl in self.tls], n_inp=self.n_inp, dl_type=self.dl_type)

    def decode(self, o: tuple, full: bool = True) -> tuple:
        """Decode each element with its own pipeline."""
        if len(o) > len(self.tls):
            raise DataError(f"Datasets.decode: {len(o)} elements for {len(self.tls)} pipelines")
        return tuple(tl.decode(x, full=full) for x, tl in zip(o, self.tls))

    def show(self, o: tuple, ctx: Any = None, **kwargs) -> Any:
        """Show each element that decodes to something showable, on the same context (an image, then its label).

        Elements that cannot show themselves (e.g. a plain number) are skipped; if none can, it raises.
        """
        shown = False
        for x, tl in zip(o, self.tls):
            x = tl.decode(x, full=False)
            if hasattr(x, "show"):
                ctx, shown = x.show(ctx=ctx, **kwargs), True
        if not shown:
            types = ", ".join(type(x).__name__ for x in o)
            raise DataError(f"Datasets.show: no element of ({types}) decodes to a value with a show method")
        return ctx

    def new_empty(self) -> Datasets:
        """The same (set-up) pipelines over no items: what inference needs from training data."""
        # an empty DataFrame would still carry pandas internals into an exported learner: no rows
        # need no frame, and new items (test_dl) bring their own
        empty = [] if hasattr(self.items, "iloc") else self.items[:0]
        return Datasets(
            tls=[tl.new(empty, split_idx=1) for tl in self.tls], n_inp=self.n_inp, dl_type=self.dl_type
        )

    def dataloaders(
        self,
        bs: int = 64,
        shuffle_train: bool = True,
        path: str | Path = ".",
        device: str | torch.device | None = None,
        **kwargs,
    ) -> Any:
        """`DataLoaders` over every subset: the first (training) one shuffled, all with batch size `bs`.

        Other keyword arguments go to each loader (`after_item`, `after_batch`, `num_workers`, ...).
        """
        return DataLoaders.from_dsets(
            *self.subsets, bs=bs, shuffle_train=shuffle_train, path=path, device=device, **kwargs
        )

    def weighted_dataloaders(self, wgts: Any, bs: int = 64, **kwargs) -> Any:
        """`dataloaders` whose training loader is a `WeightedDL`: item `i` drawn with probability `wgts[i] / sum(wgts)`.

        `wgts` has one weight per training item (the first subset). Other keywords are `dataloaders`'.
        """
        return self.dataloaders(bs=bs, wgts=wgts, **kwargs)

    def partial_dataloaders(self, partial_n: int, bs: int = 64, **kwargs) -> Any:
        """`dataloaders` whose training loader is a `PartialDL`: `partial_n` random training items per epoch."""
        return self.dataloaders(bs=bs, partial_n=partial_n, **kwargs)

    def test_set(
        self, test_items: Any, rm_tfms: int | list[int] | None = None, with_labels: bool = False
    ) -> Datasets:
        """Datasets over `test_items` replaying these validation pipelines (inputs only, unless `with_labels`).

        `rm_tfms` drops that many leading transforms of each pipeline (one int for all, or one per
        pipeline), for items already past those steps (e.g. images rather than file names).
        """
        tls = self.tls if with_labels else self.tls[: self.n_inp]
        rm = rm_tfms if isinstance(rm_tfms, (list, tuple)) else [rm_tfms or 0] * len(tls)
        if len(rm) != len(tls):
            raise DataError(f"test_set: rm_tfms has {len(rm)} entries for {len(tls)} pipelines")
        new = []
        for tl, r in zip(tls, rm):
            pipe = Pipeline(list(tl.tfms.fs)[r:], split_idx=1) if r else tl.tfms
            new.append(TfmdLists(test_items, pipe, use_list=tl.use_list, do_setup=False, split_idx=1))
        return Datasets(tls=new, n_inp=min(self.n_inp, len(new)), dl_type=self.dl_type)

    test_set.__test__ = False  # not a pytest test, despite the name

    def __repr__(self) -> str:
        return f"Datasets: {len(self)} items, {len(self.tls)} pipelines, n_inp={self.n_inp}"


def test_set(
    dsets: Datasets, test_items: Any, rm_tfms: int | list[int] | None = None, with_labels: bool = False
) -> Datasets:
    """`dsets.test_set(test_items, ...)`, in the function form fastai users know."""
    return dsets.test_set(test_items, rm_tfms=rm_tfms, with_labels=with_labels)


test_set.__test__ = False  # not a pytest test, despite the name
