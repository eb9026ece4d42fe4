"""Refusing infinite numbers in numeric columns, naming the column and the first row that holds one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from layered.tabular.errors import TabularError

__all__ = ["refuse_infinite"]


def refuse_infinite(s: pd.Series, what: str) -> None:
    """Raise naming `what` (a column) and its first row when the numeric series `s` holds +inf or -inf."""
    if not (pd.api.types.is_float_dtype(s.dtype) and len(s)):
        return
    bad = np.isinf(s.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        first = s.index[bad][0]
        raise TabularError(
            f"{what} has {int(bad.sum())} infinite values (first at row {first!r}: {s.loc[first]!r}); "
            "expected finite numbers (missing ones as NaN): replace or drop those rows"
        )
