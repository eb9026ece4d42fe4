"""Dates as model inputs: `add_datepart` splits a date into numbers and flags, `add_elapsed_times` measures time to events."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from layered.tabular.errors import TabularError

__all__ = ["add_datepart", "add_elapsed_times", "make_date"]

_FLAGS = (
    "Is_month_end",
    "Is_month_start",
    "Is_quarter_end",
    "Is_quarter_start",
    "Is_year_end",
    "Is_year_start",
)


def make_date(df: pd.DataFrame, field_name: str) -> pd.Series:
    """Column `field_name` of `df` as datetimes (parsed if it holds text); raises a `TabularError` naming it if it cannot."""
    if field_name not in df.columns:
        raise TabularError(f"the DataFrame has no date column {field_name!r}")
    s = df[field_name]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    try:
        return pd.to_datetime(s)
    except (ValueError, TypeError) as e:
        raise TabularError(f"column {field_name!r} cannot be read as dates ({e})") from None


def _numbers(s: pd.Series) -> pd.Series:
    """Whole numbers as int64, or float64 when some dates are missing (NaN where they are)."""
    return s.astype(np.float64) if s.isna().any() else s.astype(np.int64)


def add_datepart(
    df: pd.DataFrame, field_name: str, prefix: str | None = None, drop: bool = True, time: bool = False
) -> pd.DataFrame:
    """A copy of `df` with date column `field_name` split into parts, each a column `<prefix><Part>`.

    Parts: Year, Month, Week (ISO), Day, Dayofweek (Monday 0), Dayofyear, the flags
    Is_month_end/start, Is_quarter_end/start, Is_year_end/start, with `time` also Hour,
    Minute, Second, and Elapsed (seconds since 1970-01-01). `prefix` defaults to the column
    name without a trailing "date"/"Date". Missing dates give NaN parts and False flags. The
    date column is dropped unless `drop=False`.
    """
    dates = make_date(df, field_name)
    prefix = re.sub("[Dd]ate$", "", field_name) if prefix is None else prefix
    dt = dates.dt
    parts = {
        "Year": dt.year,
        "Month": dt.month,
        "Week": dt.isocalendar().week,
        "Day": dt.day,
        "Dayofweek": dt.day_of_week,
        "Dayofyear": dt.day_of_year,
    }
    if time:
        parts.update({"Hour": dt.hour, "Minute": dt.minute, "Second": dt.second})
    new = {f"{prefix}{k}": _numbers(v.astype(np.float64)) for k, v in parts.items()}
    new.update({f"{prefix}{k}": getattr(dt, k.lower()).fillna(False).astype(bool) for k in _FLAGS})
    epoch = pd.Timestamp("1970-01-01", tz=dt.tz)
    new[f"{prefix}Elapsed"] = _numbers((dates - epoch) / pd.Timedelta(seconds=1))
    out = df.drop(columns=[field_name]) if drop else df.copy()
    for name, values in new.items():
        out[name] = values
    return out


def add_elapsed_times(
    df: pd.DataFrame, field_names: str | Sequence[str], date_field: str, base_field: str
) -> pd.DataFrame:
    """A copy of `df` with, per event column `f`, the days since (`After<f>`) and until (`Before<f>`) an event.

    An event is a row whose `f` is true; times are counted between rows of the same
    `base_field` group (a store, a customer), by `date_field`. A row that is an event counts
    0; where the group has no event before (or after) a row, the value is NaN (so `FillMissing`
    marks it).
    """
    field_names = [field_names] if isinstance(field_names, str) else list(field_names)
    missing = [c for c in [*field_names, base_field] if c not in df.columns]
    if missing:
        raise TabularError(f"add_elapsed_times: the DataFrame has no column(s) {missing}")
    if not df.index.is_unique:
        raise TabularError("add_elapsed_times needs a DataFrame with a unique index (reset_index first)")
    dates = make_date(df, date_field)
    order = pd.DataFrame({"base": df[base_field], "date": dates}).sort_values(["base", "date"], kind="stable")
    groups = order["base"]
    out = df.copy()
    for f in field_names:
        flags = df[f]
        if not (pd.api.types.is_bool_dtype(flags.dtype) or pd.api.types.is_numeric_dtype(flags.dtype)):
            raise TabularError(
                f"add_elapsed_times: event column {f!r} has dtype {flags.dtype}, expected booleans"
            )
        when = order["date"].where(flags.loc[order.index].fillna(0).astype(bool))
        last = when.groupby(groups, sort=False).ffill()
        following = when.groupby(groups, sort=False).bfill()
        out[f"After{f}"] = (order["date"] - last).dt.days.astype(np.float64)
        out[f"Before{f}"] = (following - order["date"]).dt.days.astype(np.float64)
    return out
