"""add_datepart and add_elapsed_times on dates with known parts."""

import numpy as np
import pandas as pd
import pytest

from layered.tabular.dates import add_datepart, add_elapsed_times, make_date
from layered.tabular.errors import TabularError


def test_add_datepart_values():
    df = pd.DataFrame({"saledate": ["2020-03-31 06:30:15", None, "2021-01-01 00:00:00"], "x": [1, 2, 3]})
    out = add_datepart(df, "saledate", time=True)
    assert "saledate" not in out.columns and "saledate" in df.columns
    first = out.iloc[0]
    assert (first.saleYear, first.saleMonth, first.saleWeek, first.saleDay) == (2020, 3, 14, 31)
    assert (first.saleDayofweek, first.saleDayofyear) == (1, 91)  # a Tuesday, the 91st day of a leap year
    assert (first.saleHour, first.saleMinute, first.saleSecond) == (6, 30, 15)
    assert first.saleIs_month_end and first.saleIs_quarter_end and not first.saleIs_year_end
    third = out.iloc[2]
    assert third.saleIs_year_start and third.saleIs_month_start and third.saleIs_quarter_start
    assert third.saleElapsed == pd.Timestamp("2021-01-01").timestamp()
    assert np.isnan(out["saleYear"].iloc[1]) and not out["saleIs_month_end"].iloc[1]
    assert out["saleIs_month_end"].dtype == bool


def test_add_datepart_names_and_types():
    df = pd.DataFrame({"Date": pd.date_range("2020-01-01", periods=3)})
    out = add_datepart(df, "Date", drop=False)
    assert "Date" in out.columns and "Year" in out.columns and "Hour" not in out.columns
    assert out["Year"].dtype == np.int64  # no missing date: whole numbers stay integers
    assert "whenYear" in add_datepart(df, "Date", prefix="when").columns
    with pytest.raises(TabularError, match="'x' cannot be read as dates"):
        make_date(pd.DataFrame({"x": ["tuesday"]}), "x")
    with pytest.raises(TabularError, match="no date column 'y'"):
        add_datepart(df, "y")


def test_add_elapsed_times():
    df = pd.DataFrame(
        {
            "store": [1, 1, 1, 2, 2, 1],
            "date": pd.to_datetime(
                ["2020-01-01", "2020-01-03", "2020-01-10", "2020-01-01", "2020-01-05", "2020-01-06"]
            ),
            "holiday": [False, True, False, True, False, False],
        }
    )
    out = add_elapsed_times(df, "holiday", "date", "store")
    assert out["Afterholiday"].tolist()[1:] == [0, 7, 0, 4, 3] and np.isnan(out["Afterholiday"].iloc[0])
    assert out["Beforeholiday"].tolist()[:2] == [2, 0] and out["Beforeholiday"].iloc[3] == 0
    assert out["Beforeholiday"].iloc[[2, 4, 5]].isna().all()
    with pytest.raises(TabularError, match="expected booleans"):
        add_elapsed_times(df.assign(holiday="yes"), "holiday", "date", "store")
    with pytest.raises(TabularError, match="unique index"):
        add_elapsed_times(pd.concat([df, df]), "holiday", "date", "store")
