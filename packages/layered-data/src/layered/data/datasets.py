"""Datasets: several pipelines in parallel over one collection, giving `(x, y, ...)` tuples."""

from __future__ import annotations

from typing import Any

from layered.core.collection import L
from layered.data.errors import DataError
from layered.data.tfmd_lists import TfmdLists

__all__ = ["Datasets", "test_set"]


class Datasets:
    """`ds[i]` is `(tfms[0](items[i]), tfms[1](items[i]), ...)`; the first `n_inp` are inputs.

    `tfms` is one list of transforms per element, e.g. `[[get_x, ...], [get_y, Categorize()]]`.
    """

    def __init__(self, items=None, tfms=None, tls=None, n_inp: int | None = None, dl_type=None, **kwargs):
        if tls is None:
            if items is None:
                raise DataError("Datasets needs items and tfms (or tls)")
            tls = [TfmdLists(items, t, **kwargs) for t in (tfms if tfms is not None else [None])]
        self.tls = list(tls)
        self.n_inp = n_inp if n_inp is not None else max(1, len(self.tls) - 1)
        self.dl_type = dl_type

    @property
    def items(self):
        """The raw items."""
        return self.tls[0].items

    @property
    def splits(self):
        """The index lists of each subset."""
        return self.tls[0].splits

    def __len__(self) -> int:
        return len(self.tls[0])

    def __getitem__(self, i):
        res = tuple(tl[i] for tl in self.tls)
        return res if hasattr(i, "__index__") else L(zip(*res))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def subset(self, i: int) -> Datasets:
        """Subset `i` (0: train, 1: valid) as Datasets."""
        return Datasets(tls=[tl.subset(i) for tl in self.tls], n_inp=self.n_inp, dl_type=self.dl_type)

    @property
    def train(self) -> Datasets:
        """The training subset."""
        return self.subset(0)

    @property
    def valid(self) -> Datasets:
        """The validation subset."""
        return self.subset(1)

    @property
    def split_idx(self) -> int | None:
        """Which subset this is (None for the full set)."""
        return self.tls[0].split_idx

    def decode(self, o: tuple, full: bool = True) -> tuple:
        """Decode each element with its own pipeline."""
        return tuple(tl.decode(x, full=full) for x, tl in zip(o, self.tls))

    def show(self, o: tuple, ctx=None, **kwargs) -> Any:
        """Show each decoded element on the same context (e.g. an image, then its label as title)."""
        for x, tl in zip(o, self.tls):
            ctx = tl.show(x, ctx=ctx, **kwargs)
        return ctx

    def new_empty(self) -> Datasets:
        """The same pipelines over no items (what inference needs)."""
        empty = self.items.iloc[:0] if hasattr(self.items, "iloc") else []
        return Datasets(
            tls=[tl.new(empty, split_idx=1) for tl in self.tls], n_inp=self.n_inp, dl_type=self.dl_type
        )

    def dataloaders(self, bs: int = 64, shuffle_train: bool = True, path=".", device=None, **kwargs):
        """`DataLoaders` over the train and valid subsets (and any further splits)."""
        from layered.data.dataloaders import DataLoaders

        subsets = [self.subset(i) for i in range(len(self.splits))]
        return DataLoaders.from_dsets(
            *subsets, bs=bs, shuffle_train=shuffle_train, path=path, device=device, **kwargs
        )

    def __repr__(self) -> str:
        return f"Datasets: {len(self)} items, {len(self.tls)} pipelines, n_inp={self.n_inp}"


def test_set(
    dsets: Datasets, test_items, rm_tfms: int | list | None = None, with_labels: bool = False
) -> Datasets:
    """Datasets over `test_items` replaying `dsets`' validation pipelines (inputs only, unless `with_labels`).

    `rm_tfms` drops that many leading transforms per pipeline (for items that are already, e.g.,
    images rather than file names).
    """
    tls = dsets.tls if with_labels else dsets.tls[: dsets.n_inp]
    rm = rm_tfms if isinstance(rm_tfms, list) else [rm_tfms or 0] * len(tls)
    new = []
    for tl, r in zip(tls, rm):
        out = tl.new(test_items, split_idx=1)
        if r:
            out.tfms = type(out.tfms)(list(out.tfms.fs)[r:], split_idx=1)
        new.append(out)
    return Datasets(tls=new, n_inp=dsets.n_inp, dl_type=dsets.dl_type)


test_set.__test__ = False  # not a pytest test, despite the name
