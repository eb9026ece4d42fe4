"""Procs: `FillMissing`, `Categorify` and `TabularNormalize`, fitted on the training rows of a `TabularPandas`.

A proc works on a whole table at once (vectorised pandas, never row by row): `setups(to)`
learns from the training rows (`to.train_rows(...)`, or the positions `to.splits[0]`:
`Categorify` codes each whole column once and keeps the levels the training rows hold, which
is cheaper than copying those rows out of text columns), `encodes(to)` rewrites the columns of
`to.items` in place and returns `to`, `decodes(to)` turns processed values back into the
original ones. They run in their `order` — `FillMissing` (10), `Categorify` (20), `TabularNormalize`
(99) — each set up and applied before the next is set up, so `Categorify` also encodes the
`_na` indicator columns `FillMissing` adds, and `TabularNormalize` sees no missing values.
`procs=[Categorify, FillMissing, Normalize]` (fastai's spelling, with `layered.data`'s `Normalize`)
means the same: `TabularPandas` runs `TabularNormalize` for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layered.core.registry import register_serializable
from layered.core.transform import Transform
from layered.data.normalize import Normalize as _TensorNormalize
from layered.tabular.dtypes import category_codes, category_levels, smallest_int
from layered.tabular.errors import TabularError
from layered.tabular.table import ProcessedTable

__all__ = ["Categorify", "FillMissing", "TabularNormalize"]

_STRATEGIES = ("median", "mode", "constant")


def _all_missing(col, n_train: int, proc: str) -> TabularError:
    return TabularError(
        f"{proc}: column {col!r} has no value in the {n_train} training rows (all missing); drop it "
        "or fill it before building the TabularPandas"
    )


@register_serializable
class FillMissing(Transform):
    """Fill missing continuous values with the training rows' median, mode or `fill_val`.

    With `add_col`, every column that had missing training values gets a boolean `<col>_na`
    column (added to `cat_names`) marking the filled rows, so the model can tell; decoding puts
    the missing values back where it says. Missing values in new rows of a column that had none
    in training are filled too (that column has no indicator). A column with no training value
    at all raises a `TabularError` naming it.
    """

    order = 10

    def __init__(self, fill_strategy: str = "median", fill_val: float = 0.0, add_col: bool = True):
        super().__init__()
        if fill_strategy not in _STRATEGIES:
            raise TabularError(
                f"FillMissing: fill_strategy must be one of {_STRATEGIES}, got {fill_strategy!r}"
            )
        self.fill_strategy, self.fill_val, self.add_col = fill_strategy, fill_val, add_col
        self.fill_vals: dict = {}
        self.na_cols: list = []

    def _fill_value(self, s: pd.Series) -> float:
        if self.fill_strategy == "median":
            return float(s.median())
        if self.fill_strategy == "mode":
            return float(s.mode().iloc[0])
        return float(self.fill_val)

    def setups(self, to):
        train = to.train_rows(to.cont_names)
        missing = train.isna().sum()
        self.fill_vals, self.na_cols = {}, []
        for col in to.cont_names:
            if missing[col] == len(train) and len(train):
                raise _all_missing(col, len(train), "FillMissing")
            self.fill_vals[col] = self._fill_value(train[col])
            if missing[col]:
                self.na_cols.append(col)

    def encodes(self, to):
        items = to.items
        for col, value in self.fill_vals.items():
            if col not in items.columns:
                continue
            mask = items[col].isna()
            if self.add_col and col in self.na_cols:
                items[f"{col}_na"] = mask.to_numpy()
                if f"{col}_na" not in to.cat_names:
                    to.cat_names = [*to.cat_names, f"{col}_na"]
            if mask.any():
                items[col] = items[col].fillna(value)
        return to

    def decodes(self, to):
        for col in self.na_cols:
            flag = f"{col}_na"
            if col in to.items.columns and flag in to.items.columns:
                to.items[col] = to.items[col].mask(to.items[flag].astype(bool))
        return to

    def __repr__(self) -> str:
        return f"FillMissing(fill_strategy={self.fill_strategy!r}, add_col={self.add_col}, na_cols={self.na_cols})"


@register_serializable
class Categorify(Transform):
    """Categorical columns ⇄ integer codes: `0` is `#na#` (missing, or a category training never saw).

    The levels of each column come from its training rows, sorted (or in the declared order of
    an ordered pandas categorical); `classes[col]` is `['#na#', *levels]`. Decoding turns codes
    back into the levels, and `#na#` back into a missing value.
    """

    order = 20

    def __init__(self):
        super().__init__()
        self.classes: dict = {}

    def setups(self, to):
        rows = to.splits[0]
        self.classes = {}
        for col in to.cat_names:
            found = category_levels(to.items[col], rows)
            if not found and len(rows):
                raise _all_missing(col, len(rows), "Categorify")
            self.classes[col] = ["#na#", *found]

    def encodes(self, to):
        for col, vocab in self.classes.items():
            if col in to.items.columns:
                codes = category_codes(to.items[col], vocab[1:]) + 1
                to.items[col] = codes.astype(smallest_int(0, len(vocab)))
        return to

    def decodes(self, to):
        for col, vocab in self.classes.items():
            if col in to.items.columns:
                codes = to.items[col].to_numpy().astype(np.int64) - 1
                to.items[col] = pd.Categorical.from_codes(codes, categories=vocab[1:])
        return to

    def __repr__(self) -> str:
        return f"Categorify({ {c: len(v) for c, v in self.classes.items()} })"


@register_serializable
class TabularNormalize(_TensorNormalize):
    """`(x - mean) / std` of each continuous column, with the statistics of its training rows.

    It is the tensor `Normalize` of `layered.data` too (what it does to batches is unchanged),
    extended to a `TabularPandas`. Its own name keeps `Normalize` one object in every star-import.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.means: dict = {}
        self.stds: dict = {}

    def setups(self, to: ProcessedTable):
        train = to.train_rows(to.cont_names).astype(np.float64)
        self.means = {c: float(v) for c, v in train.mean().items()}
        self.stds = {c: float(v) + self.eps for c, v in train.std(ddof=0).items()}

    def encodes(self, to: ProcessedTable):
        for col, mean in self.means.items():
            if col in to.items.columns:
                to.items[col] = ((to.items[col] - mean) / self.stds[col]).astype(np.float32)
        return to

    def decodes(self, to: ProcessedTable):
        for col, mean in self.means.items():
            if col in to.items.columns:
                to.items[col] = to.items[col] * self.stds[col] + mean
        return to
