"""The target procs: class labels ⇄ codes, numbers ⇄ float32, chosen from the y block or the target dtype.

They run with the other procs (see `layered.tabular.procs`) on a whole `TabularPandas`. Rows
without the target columns (new rows to predict) pass through them untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from layered.core.registry import register_serializable
from layered.core.transform import Transform
from layered.data.blocks import TransformBlock
from layered.data.categorize import Categorize, MultiCategorize, RegressionSetup
from layered.tabular._finite import refuse_infinite
from layered.tabular.dtypes import category_codes, category_levels, smallest_int
from layered.tabular.errors import TabularError

__all__ = ["CategorizeTarget", "RegressionTarget", "target_proc"]


def _check_no_nan(to, col) -> None:
    n = int(to.items[col].isna().sum())
    if n:
        first = to.items.index[to.items[col].isna().to_numpy()][0]
        raise TabularError(
            f"target column {col!r} has {n} missing values (first at row {first!r}); drop or fill those "
            "rows before building the TabularPandas"
        )


@register_serializable
class CategorizeTarget(Transform):
    """One target column of class labels ⇄ class codes `0..c-1` (the vocabulary from the training rows).

    A label the vocabulary lacks raises a `TabularError` naming it, unless `add_na`, which puts a
    `#na#` class first and maps unseen labels to it. Missing labels always raise.
    """

    order = 5

    def __init__(self, vocab: Sequence | None = None, sort: bool = True, add_na: bool = False):
        super().__init__()
        vocab = None if vocab is None else list(vocab)
        if vocab is not None and add_na and vocab[:1] != ["#na#"]:
            vocab = ["#na#", *vocab]
        self.vocab, self.sort, self.add_na = vocab, sort, add_na

    def setups(self, to):
        col = to.y_names[0]
        if self.vocab is None:
            _check_no_nan(to, col)
            if self.sort:
                found = category_levels(to.items[col], to.splits[0])
            else:
                found = pd.unique(to.train_rows([col])[col].to_numpy()).tolist()
            self.vocab = (["#na#"] if self.add_na else []) + found
        self.c = len(self.vocab)

    def encodes(self, to):
        col = to.y_names[0]
        if col not in to.items.columns:
            return to
        _check_no_nan(to, col)
        known = self.vocab[1:] if self.add_na else self.vocab
        codes = category_codes(to.items[col], known)
        unseen = codes < 0
        if unseen.any() and not self.add_na:
            found = pd.unique(to.items[col].to_numpy()[unseen]).tolist()
            raise TabularError(
                f"target column {col!r} holds labels {found[:5]} that the training rows do not have "
                f"(classes: {self.vocab[:10]}); pass CategoryBlock(add_na=True) to map them to '#na#'"
            )
        to.items[col] = (codes + 1 if self.add_na else codes).astype(smallest_int(0, len(self.vocab)))
        return to

    def decodes(self, to):
        col = to.y_names[0]
        if col in to.items.columns:
            to.items[col] = np.asarray(self.vocab, dtype=object)[to.items[col].to_numpy().astype(np.int64)]
        return to

    def __repr__(self) -> str:
        return f"CategorizeTarget(vocab={self.vocab})"


@register_serializable
class RegressionTarget(Transform):
    """Numeric target columns → float32 (decoding leaves them as numbers); missing values raise."""

    order = 5

    def setups(self, to):
        self.c = len(to.y_names)

    def encodes(self, to):
        for col in to.y_names:
            if col not in to.items.columns:
                continue
            s = to.items[col]
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
                raise TabularError(
                    f"regression target column {col!r} has dtype {s.dtype}, expected numbers; use "
                    "CategoryBlock for labels"
                )
            _check_no_nan(to, col)
            refuse_infinite(s, f"regression target column {col!r}")
            to.items[col] = s.astype(np.float32)
        return to

    def __repr__(self) -> str:
        return "RegressionTarget()"


def target_proc(y_block: Any, df: pd.DataFrame, y_names: list) -> Transform:
    """The proc for the targets `y_names`: from `y_block` (CategoryBlock / RegressionBlock), else from their dtype.

    Without a block, float columns are a regression target and any other single column holds
    class labels.
    """
    if isinstance(y_block, type) or (callable(y_block) and not isinstance(y_block, TransformBlock)):
        y_block = y_block()
    if y_block is None:
        floats = all(pd.api.types.is_float_dtype(df[c].dtype) for c in y_names)
        if floats:
            return RegressionTarget()
        if len(y_names) > 1:
            raise TabularError(
                f"targets {y_names} are not all float columns, and several class-label targets are not "
                "supported: give RegressionBlock() for several numeric targets, or one label column"
            )
        return CategorizeTarget()
    if not isinstance(y_block, TransformBlock):
        raise TabularError(
            f"y_block must be a TransformBlock such as CategoryBlock() or RegressionBlock(), got {y_block!r}"
        )
    tfms = y_block.type_tfms
    if any(isinstance(t, MultiCategorize) for t in tfms):
        raise TabularError("tabular targets do not support MultiCategoryBlock; use one label column")
    cat = next((t for t in tfms if isinstance(t, Categorize)), None)
    if cat is not None:
        if len(y_names) != 1:
            raise TabularError(f"CategoryBlock takes one target column, got y_names={y_names}")
        vocab = None if cat.vocab is None else list(cat.vocab)
        return CategorizeTarget(vocab=vocab, sort=cat.sort, add_na=cat.add_na)
    if any(isinstance(t, RegressionSetup) for t in tfms):
        return RegressionTarget()
    raise TabularError(f"y_block {y_block!r} is neither a CategoryBlock nor a RegressionBlock")
