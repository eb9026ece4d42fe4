"""Ratings as a tabular problem: two categorical columns (user, item) and a numeric target.

```python
dls = CollabDataLoaders.from_df(ratings, valid_pct=0.2, user_name="user", item_name="item",
                                rating_name="rating", seed=0, bs=1024)
dls.show_batch()                       # decoded (user, item, rating) rows
dls.test_dl([(42, 7), (3, 99)])        # (user, item) pairs to predict, processed like training
```
`Categorify` learns the user and item vocabularies from the training rows only; code 0 is
`#na#`, which is what a user or item the training rows never saw maps to — in validation and
at inference — so an unknown id gets the `#na#` embedding instead of an index error deep in an
embedding lookup. Batches are `(codes, ratings)`: int64 `(bs, 2)` codes (user, item) and float32
`(bs, 1)` ratings, each sliced from tensors made once (the in-memory fast path).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from layered.collab.errors import CollabError
from layered.core.delegation import delegates
from layered.core.registry import register_serializable
from layered.data.blocks import RegressionBlock
from layered.data.sampling import PartialSampling, WeightedSampling
from layered.data.splitters import RandomSplitter
from layered.tabular.procs import Categorify
from layered.tabular.tab_loader import TabDataLoader
from layered.tabular.tabular_pandas import TabularDataLoaders, TabularPandas

__all__ = [
    "CollabDataLoader",
    "CollabDataLoaders",
    "PartialCollabDataLoader",
    "TabularCollab",
    "WeightedCollabDataLoader",
]


@register_serializable
class TabularCollab(TabularPandas):
    """A `TabularPandas` whose only inputs are categorical codes: its rows are `(codes, ratings)`.

    It has no continuous columns, so the empty continuous tensor is left out of its rows and
    batches, and a model takes one input, the `(bs, n_cat)` codes.
    """

    n_inp = 1

    def _make_tensors(self) -> tuple[torch.Tensor, ...]:
        cats, _conts, *ys = super()._make_tensors()
        return (cats, *ys)


@register_serializable
class CollabDataLoader(TabDataLoader):
    """A `TabDataLoader` over a `TabularCollab`: batches `(codes, ratings)`, decoded into DataFrames."""

    def _set_dataset(self, dataset: Any, indexed: bool | None, n: int | None) -> None:
        if not isinstance(dataset, TabularCollab):
            raise CollabError(f"{type(self).__name__} needs a TabularCollab, got {type(dataset).__name__}")
        super()._set_dataset(dataset, indexed, n)

    def decode_batch(self, b: tuple, max_n: int = 9) -> list[tuple]:
        """The first `max_n` rows of a batch, each `(ids, row)`: the decoded (user, item) Series and the whole row as a one-row DataFrame."""
        to, rows = self.dataset, self.decode(b, max_n)
        return [(rows.iloc[i][to.cat_names], rows.iloc[[i]]) for i in range(len(rows))]


@register_serializable
class WeightedCollabDataLoader(WeightedSampling, CollabDataLoader):
    """A `CollabDataLoader` drawing ratings by weight (`wgts`, one per training rating) each shuffled epoch."""


@register_serializable
class PartialCollabDataLoader(PartialSampling, CollabDataLoader):
    """A `CollabDataLoader` visiting `partial_n` random ratings each shuffled epoch."""


def _pairs_frame(items: Any, names: list) -> pd.DataFrame:
    """Rows to predict as a DataFrame: given as one, or as rows that are Series, dicts or (user, item) pairs."""
    if isinstance(items, pd.DataFrame):
        return items
    if isinstance(items, (pd.Series, dict)) or not isinstance(items, Iterable) or isinstance(items, str):
        raise CollabError(
            f"test_dl needs a DataFrame or a list of rows (Series, dicts or (user, item) pairs), got "
            f"{type(items).__name__}; wrap a single row in a list"
        )
    rows = list(items)
    named = [isinstance(r, (pd.Series, dict)) for r in rows]
    if all(named):
        return pd.DataFrame(rows)
    pairs = []
    for k, r in enumerate(rows):
        pair = None if named[k] or isinstance(r, str) or not isinstance(r, Iterable) else list(r)
        if pair is None or len(pair) != len(names):
            raise CollabError(
                f"test_dl: row {k} is {r!r}; expected a ({', '.join(map(str, names))}) pair like the "
                "other rows, or every row a Series/dict with those columns (a single pair goes in a list)"
            )
        pairs.append(pair)
    return pd.DataFrame(pairs, columns=names)


@register_serializable
class CollabDataLoaders(TabularDataLoaders):
    """The training and validation `CollabDataLoader`s of a ratings table (numeric ratings: mean squared error is the default loss)."""

    loader_type = CollabDataLoader
    weighted_loader_type = WeightedCollabDataLoader
    partial_loader_type = PartialCollabDataLoader

    @classmethod
    @delegates(TabularDataLoaders.from_to, keep=True, but="shuffle_train")
    def from_to(
        cls, to: TabularCollab, bs: int = 64, val_bs: int | None = None, shuffle: bool = True, **kwargs: Any
    ) -> CollabDataLoaders:
        """One loader per split of `to`: the first shuffled (dropping a last partial batch), the others in order.

        Other keywords (`path`, `device`, `loss_func`, loader arguments) are `TabularDataLoaders.from_to`'s.
        """
        if not isinstance(to, TabularCollab):
            raise CollabError(f"CollabDataLoaders.from_to needs a TabularCollab, got {type(to).__name__}")
        return super().from_to(to, bs=bs, val_bs=val_bs, shuffle_train=shuffle, **kwargs)

    @classmethod
    @delegates(from_to, keep=True)
    def from_df(
        cls,
        ratings: pd.DataFrame,
        valid_pct: float = 0.2,
        user_name: Any = None,
        item_name: Any = None,
        rating_name: Any = None,
        seed: int | None = None,
        path: str | Path = ".",
        bs: int = 64,
        val_bs: int | None = None,
        shuffle: bool = True,
        device: str | torch.device | None = None,
        **kwargs: Any,
    ) -> CollabDataLoaders:
        """Loaders over `ratings`, a random `valid_pct` of its rows (repeatable with `seed`) held out.

        The user, item and rating columns default to the first three columns of the frame.
        Ratings must be numbers. `wgts` (one per training rating) or `partial_n` make the training
        loader sample (`WeightedCollabDataLoader`, `PartialCollabDataLoader`). Other keywords go
        to the loaders (`num_workers`, ...).
        """
        if not isinstance(ratings, pd.DataFrame):
            raise CollabError(
                f"CollabDataLoaders.from_df needs a pandas DataFrame, got {type(ratings).__name__}"
            )
        given = (user_name, item_name, rating_name)
        if any(n is None for n in given) and len(ratings.columns) < 3:
            raise CollabError(
                f"the ratings frame has columns {list(ratings.columns)}; without user_name, item_name and "
                "rating_name it needs at least three (user, item, rating)"
            )
        names = [ratings.columns[k] if n is None else n for k, n in enumerate(given)]
        if len(set(names)) != 3:
            raise CollabError(f"user_name, item_name and rating_name must be three columns, got {names}")
        to = TabularCollab(
            ratings,
            procs=[Categorify],
            cat_names=names[:2],
            y_names=names[2],
            y_block=RegressionBlock(),
            splits=RandomSplitter(valid_pct, seed).positions(ratings),
        )
        return cls.from_to(to, bs=bs, val_bs=val_bs, shuffle=shuffle, path=path, device=device, **kwargs)

    @classmethod
    @delegates(from_df, keep=True)
    def from_csv(cls, csv: str | Path, **kwargs: Any) -> CollabDataLoaders:
        """Read `csv` with pandas, then `from_df` (with `path` the file's folder unless given)."""
        csv = Path(csv)
        if not csv.is_file():
            raise CollabError(f"CollabDataLoaders.from_csv: {csv} is not a file")
        kwargs.setdefault("path", csv.parent)
        return cls.from_df(pd.read_csv(csv), **kwargs)

    # ---- names and vocabularies --------------------------------------------------------
    @property
    def user_name(self) -> Any:
        """The column holding user ids."""
        return self.train_ds.cat_names[0]

    @property
    def item_name(self) -> Any:
        """The column holding item ids."""
        return self.train_ds.cat_names[1]

    @property
    def rating_name(self) -> Any:
        """The column holding ratings."""
        return self.train_ds.y_names[0]

    @property
    def classes(self) -> dict:
        """`{user_name: ['#na#', *users], item_name: ['#na#', *items]}`: the vocabularies from the training rows."""
        return self.train_ds.classes

    # ---- inference ---------------------------------------------------------------------
    def test_dl(self, test_items: Any, with_labels: bool = False, **kwargs: Any) -> CollabDataLoader:
        """A loader over (user, item) rows to predict: a DataFrame, or a list of pairs, Series or dicts.

        Ids the training rows lack become `#na#`. Ratings are kept only `with_labels` (they must
        then be present). Keywords go to the loader (`bs`, `num_workers`, ...).
        """
        dl = self.loaders[1] if len(self.loaders) > 1 else self.loaders[0]
        to = dl.dataset
        df = _pairs_frame(test_items, to.cat_names)
        if with_labels:
            if self.rating_name not in df.columns:
                raise CollabError(
                    f"test_dl(with_labels=True): the rows have no rating column {self.rating_name!r}"
                )
        else:
            df = df.drop(columns=[c for c in to.y_names if c in df.columns])
        return dl.new(to.new(df), shuffle=False, drop_last=False, **kwargs)
