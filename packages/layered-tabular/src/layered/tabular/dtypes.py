"""Column kinds and dtypes: which columns are continuous or categorical, and the smallest dtypes that hold them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from layered.tabular.errors import TabularError

__all__ = [
    "category_codes",
    "category_levels",
    "cont_cat_split",
    "df_shrink",
    "df_shrink_dtypes",
    "smallest_int",
]

_INTS = (np.int8, np.int16, np.int32, np.int64)
_UINTS = (np.uint8, np.uint16, np.uint32, np.uint64)


def smallest_int(low: int, high: int, unsigned: bool = False) -> np.dtype:
    """The smallest NumPy integer dtype holding every value in `[low, high]` (unsigned if asked and `low >= 0`)."""
    for t in _UINTS if unsigned and low >= 0 else _INTS:
        info = np.iinfo(t)
        if info.min <= low and high <= info.max:
            return np.dtype(t)
    raise TabularError(f"no integer dtype holds the range [{low}, {high}]")


def _sort_key(o: Any) -> tuple:
    # labels of mixed types (ints and strings, say) cannot be compared directly
    return (type(o).__name__, o)


def _sorted(levels: list) -> list:
    """`levels` sorted: by value when they share one type, else by type name, then value."""
    return sorted(levels) if len({type(o) for o in levels}) <= 1 else sorted(levels, key=_sort_key)


def _codes_and_uniques(values: pd.Series) -> tuple[np.ndarray, Any]:
    """Each value's position in the distinct values (-1 when missing), and those values.

    One vectorised pass (pandas' hash table; pyarrow's for arrow strings), never a Python loop
    over the values; a categorical column already holds both.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        # widened from int8/int16, so that `codes + 1` cannot overflow
        return values.cat.codes.to_numpy().astype(np.intp), values.cat.categories
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biu" and len(values):
        dense = _dense_codes(values.to_numpy())
        if dense is not None:
            return dense
    return pd.factorize(values)


def _dense_codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """`_codes_and_uniques` of integers (or booleans) spanning a range not much wider than their number.

    Ids such as users, items or years: a table over the range replaces the hash table, about
    ten times faster; the distinct values come out sorted. None for a sparse range.
    """
    numbers = a.view(np.uint8) if a.dtype == bool else a
    low, high = int(numbers.min()), int(numbers.max())
    if high - low > 2 * len(numbers) + 1024:
        return None
    offsets = numbers - numbers.dtype.type(low)
    present = np.zeros(high - low + 1, dtype=bool)
    present[offsets] = True
    code_of_offset = np.cumsum(present) - 1
    uniques = (np.flatnonzero(present) + low).astype(a.dtype)
    return code_of_offset[offsets], uniques


def category_levels(values: pd.Series, rows: np.ndarray | None = None) -> list:
    """The categories of `values` (at row positions `rows`, e.g. the training rows), as plain Python values.

    An ordered categorical gives its declared levels, in order (unused ones too); any other
    column the levels it holds, sorted (values of mixed types by type name, then value).
    Missing values are not levels.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.ordered:
        return values.cat.categories.tolist()
    codes, uniques = _codes_and_uniques(values)
    if rows is not None:
        codes = codes[rows]
    seen = np.bincount(codes + 1, minlength=len(uniques) + 1)[1:] > 0  # slot 0 counts the missing
    return _sorted(uniques[seen].tolist())


def category_codes(values: pd.Series, levels: list) -> np.ndarray:
    """The position of each value in `levels`, -1 for a missing value or one `levels` does not hold."""
    codes, uniques = _codes_and_uniques(values)
    # look up each distinct value once, then map the codes; the appended -1 is where missing (-1) lands
    lookup = np.append(pd.Index(levels).get_indexer(uniques), -1)
    return lookup[codes]


def _names(x: str | Iterable[str] | None) -> list:
    return [] if x is None else [x] if isinstance(x, str) else list(x)


def _is_text(dtype) -> bool:
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def df_shrink_dtypes(
    df: pd.DataFrame, skip: Iterable[str] = (), obj2cat: bool = True, int2uint: bool = False
) -> dict:
    """The dtype each column of `df` can shrink to: `{column: dtype}` for the columns that change.

    64-bit floats become 32-bit, integers the smallest width that holds their range (unsigned
    with `int2uint` when none is negative), and text columns `category` with `obj2cat`. Other
    columns (bool, dates, nullable and extension types) and those in `skip` are left alone.
    """
    skip = set(_names(skip))
    out = {}
    for col in df.columns:
        if col in skip:
            continue
        s = df[col]
        dtype = s.dtype
        if dtype == np.float64:
            out[col] = np.dtype(np.float32)
        elif isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(s):
            small = smallest_int(int(s.min()), int(s.max()), unsigned=int2uint)
            if small.itemsize < dtype.itemsize or small.kind != dtype.kind:
                out[col] = small
        elif obj2cat and _is_text(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            out[col] = "category"
    return out


def df_shrink(
    df: pd.DataFrame, skip: Iterable[str] = (), obj2cat: bool = True, int2uint: bool = False
) -> pd.DataFrame:
    """A copy of `df` with each column in the smallest dtype that holds it (see `df_shrink_dtypes`)."""
    return df.astype(df_shrink_dtypes(df, skip=skip, obj2cat=obj2cat, int2uint=int2uint))


def cont_cat_split(
    df: pd.DataFrame, max_card: int = 20, dep_var: str | Iterable[str] | None = None
) -> tuple[list, list]:
    """Split the columns of `df` into `(cont_names, cat_names)`, leaving out `dep_var`.

    Float columns, and integer columns with more than `max_card` distinct values, are
    continuous; text, bool, category and low-cardinality integer columns are categorical.
    Date columns are left out of both: turn them into numbers first with `add_datepart`.
    """
    skip = set(_names(dep_var))
    missing = sorted(str(c) for c in skip if c not in df.columns)
    if missing:
        raise TabularError(f"cont_cat_split: dep_var names columns {missing} that the frame does not have")
    cont, cat = [], []
    for col in df.columns:
        if col in skip:
            continue
        dtype = df[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
            continue
        if pd.api.types.is_float_dtype(dtype) or (
            pd.api.types.is_integer_dtype(dtype) and df[col].nunique() > max_card
        ):
            cont.append(col)
        else:
            cat.append(col)
    return cont, cat
