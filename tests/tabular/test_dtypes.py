"""Column kinds and dtypes: cont_cat_split, df_shrink, category levels and codes."""

import numpy as np
import pandas as pd
import pytest

from layered.tabular.dtypes import (
    category_codes,
    category_levels,
    cont_cat_split,
    df_shrink,
    df_shrink_dtypes,
    smallest_int,
)
from layered.tabular.errors import TabularError


def frame() -> pd.DataFrame:
    n = 50
    return pd.DataFrame(
        {
            "small_int": np.arange(n) % 3,
            "big_int": np.arange(n) * 1000,
            "neg": -np.arange(n),
            "flt": np.linspace(0, 1, n),
            "txt": ["a", "b"] * (n // 2),
            "flag": [True, False] * (n // 2),
            "when": pd.date_range("2020-01-01", periods=n),
            "target": np.arange(n) * 0.5,
        }
    )


def test_cont_cat_split():
    cont, cat = cont_cat_split(frame(), max_card=20, dep_var="target")
    assert cont == ["big_int", "neg", "flt"]
    assert cat == ["small_int", "txt", "flag"]  # the date column goes to neither
    cont, cat = cont_cat_split(frame(), max_card=60, dep_var=["target", "flt"])
    assert cont == [] and "big_int" in cat
    with pytest.raises(TabularError, match=r"dep_var names columns \['nope'\]"):
        cont_cat_split(frame(), dep_var="nope")


def test_df_shrink():
    df = frame()
    shrunk = df_shrink(df, skip=["target"])
    assert shrunk["small_int"].dtype == np.int8 and shrunk["big_int"].dtype == np.int32
    assert shrunk["neg"].dtype == np.int8 and shrunk["flt"].dtype == np.float32
    assert isinstance(shrunk["txt"].dtype, pd.CategoricalDtype)
    assert shrunk["target"].dtype == np.float64 and shrunk["flag"].dtype == bool
    assert shrunk["when"].dtype == df["when"].dtype
    assert (shrunk["big_int"] == df["big_int"]).all()
    assert df["small_int"].dtype == np.int64  # the input is left alone
    assert df_shrink_dtypes(df, int2uint=True)["small_int"] == np.uint8
    assert "txt" not in df_shrink_dtypes(df, obj2cat=False)


def test_smallest_int():
    assert smallest_int(0, 127) == np.int8 and smallest_int(0, 128) == np.int16
    assert (
        smallest_int(0, 255, unsigned=True) == np.uint8 and smallest_int(-1, 255, unsigned=True) == np.int16
    )
    with pytest.raises(TabularError):
        smallest_int(0, 2**70)


def test_category_levels_and_codes():
    s = pd.Series(["b", None, "a", "b", 3], dtype=object)
    assert category_levels(s) == [3, "a", "b"]  # mixed types sort by type name, then value
    ordered = pd.Series(pd.Categorical(["lo", "hi"], categories=["lo", "mid", "hi"], ordered=True))
    assert category_levels(ordered) == ["lo", "mid", "hi"]
    assert category_codes(s, ["a", "b"]).tolist() == [1, -1, 0, 1, -1]
    assert category_codes(s.astype("category"), ["a", "b"]).tolist() == [1, -1, 0, 1, -1]
    assert category_codes(pd.Series([1.0, np.nan, 2.0]), [1, 2]).tolist() == [0, -1, 1]


@pytest.mark.parametrize(
    "values",
    [
        np.array([7, -3, 7, 0, 12, -3, 5], dtype=np.int64),  # a dense range: the table path
        np.array([2**62, -(2**62), 5, 2**62, 17, 5, 0], dtype=np.int64),  # a sparse range: the hash path
        np.array([200, 3, 255, 3, 0, 200, 9], dtype=np.uint8),
        np.array([True, False, True, True, False, True, True]),
    ],
)
def test_integer_levels_and_codes_match_a_plain_lookup(values):
    s = pd.Series(values)
    rows = np.array([0, 1, 2, 4])  # the "training" rows: later values are unseen
    expected = sorted({v.item() for v in values[rows]})
    levels = category_levels(s, rows)
    assert levels == expected and all(type(v) is type(values[0].item()) for v in levels)
    codes = category_codes(s, levels)
    assert codes.tolist() == [levels.index(v.item()) if v.item() in levels else -1 for v in values]
    assert category_levels(s) == sorted({v.item() for v in values})


@pytest.mark.parametrize("n_categories", [126, 127, 300])  # int8 codes, then int16
def test_levels_of_categoricals_whose_codes_are_small_integers(n_categories):
    cats = [f"c{i:03d}" for i in range(n_categories)]
    last = cats[-1]
    s = pd.Series(pd.Categorical([last, "c005", None, last], categories=cats))
    assert category_levels(s) == ["c005", last]
    assert category_codes(s, ["c005", last]).tolist() == [1, 0, -1, 1]
