"""The procs' outputs pinned on awkward columns: codes, vocab order (with `#na#`), fill values and statistics."""

import numpy as np
import pandas as pd
import pytest

from layered.data.normalize import Normalize
from layered.tabular.procs import Categorify, FillMissing, TabularNormalize
from layered.tabular.tabular_pandas import TabularPandas

TRAIN, VALID = list(range(6)), [6, 7]  # the last two rows are validation: what they hold is never learned

# column -> (values, the expected vocabulary, the expected code of each row)
CATEGORICAL = {
    "obj": (
        pd.Series(["b", None, "a", np.nan, "b", "c", "a", "zz"], dtype=object),
        ["#na#", "a", "b", "c"],
        [2, 0, 1, 0, 2, 3, 1, 0],
    ),
    "text": (
        pd.Series(["b", None, "a", np.nan, "b", "c", "a", "zz"], dtype="str"),
        ["#na#", "a", "b", "c"],
        [2, 0, 1, 0, 2, 3, 1, 0],
    ),
    "case": (
        pd.Series(["b", "B", "a", "A", "b", "a", "B", "C"], dtype=object),
        ["#na#", "A", "B", "a", "b"],  # code-point order: capitals first
        [4, 2, 3, 1, 4, 3, 2, 0],
    ),
    "unused_levels": (
        pd.Series(pd.Categorical(list("xzxzxzyw"), categories=["z", "y", "x", "w"])),
        ["#na#", "x", "z"],  # unordered: only the levels training uses, sorted
        [1, 2, 1, 2, 1, 2, 0, 0],
    ),
    "ordered": (
        pd.Series(
            pd.Categorical(
                ["hi", "lo", "hi", None, "lo", "hi", "mid", "lo"], ["lo", "mid", "hi"], ordered=True
            )
        ),
        ["#na#", "lo", "mid", "hi"],  # ordered: every declared level, in the declared order
        [3, 1, 3, 0, 1, 3, 2, 1],
    ),
    "flag": (
        pd.Series([True, False, True, True, False, True, False, True]),
        ["#na#", False, True],
        [2, 1, 2, 2, 1, 2, 1, 2],
    ),
    "count": (
        pd.Series(pd.array([3, None, 1, 3, 1, 20, 2, 1], dtype="Int64")),
        ["#na#", 1, 3, 20],
        [2, 0, 1, 2, 1, 3, 0, 1],
    ),
    "numeric_text": (
        pd.Series(["10", "9", "100", "9", "10", "9", "11", "100"], dtype="str"),
        ["#na#", "10", "100", "9"],  # strings sort as strings
        [1, 3, 2, 3, 1, 3, 0, 2],
    ),
    "mixed_types": (
        pd.Series([1, "a", 2.5, 1, "a", 2.5, 3, None], dtype=object),
        ["#na#", 2.5, 1, "a"],  # values of different types sort by type name first (float, int, str)
        [2, 3, 1, 2, 3, 1, 0, 0],
    ),
    "float_levels": (
        pd.Series([1.5, np.nan, 0.5, 1.5, 0.5, 2.0, 3.0, 0.5]),
        ["#na#", 0.5, 1.5, 2.0],
        [2, 0, 1, 2, 1, 3, 0, 1],
    ),
}
LEVEL_TYPES = {
    "flag": bool,
    "count": int,
    "float_levels": float,
    "obj": str,
    "text": str,
    "numeric_text": str,
}


def frame() -> pd.DataFrame:
    df = pd.DataFrame({name: values for name, (values, _, _) in CATEGORICAL.items()})
    df["x"] = [
        1.0,
        np.nan,
        3.0,
        10.0,
        np.nan,
        6.0,
        1e6,
        np.nan,
    ]  # validation's 1e6 must not move any statistic
    df["n"] = pd.array([4, 1, None, 2, 8, 5, 100, 7], dtype="Int64")
    df["y"] = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    return df


@pytest.fixture(scope="module")
def table() -> TabularPandas:
    return TabularPandas(
        frame(),
        procs=[Categorify, FillMissing, Normalize],
        cat_names=list(CATEGORICAL),
        cont_names=["x", "n"],
        y_names="y",
        splits=(TRAIN, VALID),
    )


@pytest.mark.parametrize("col", list(CATEGORICAL))
def test_codes_and_vocab_of_each_kind_of_column(table, col):
    _, vocab, codes = CATEGORICAL[col]
    assert table.classes[col] == vocab
    assert table.items[col].tolist() == codes
    assert table.items[col].dtype == np.int8  # the smallest integer holding the codes
    if col in LEVEL_TYPES:
        assert all(type(v) is LEVEL_TYPES[col] for v in table.classes[col][1:])


def test_decoding_gives_back_the_training_values(table):
    decoded = table.decode()
    for col, (values, _, codes) in CATEGORICAL.items():
        back = decoded[col].tolist()
        for row, (value, code) in enumerate(zip(values, codes)):
            if code == 0:
                assert pd.isna(back[row]), (col, row)
            else:
                assert back[row] == value, (col, row)


def test_fill_values_and_indicator_columns(table):
    fill = next(p for p in table.procs.fs if isinstance(p, FillMissing))
    assert fill.na_cols == ["x", "n"]
    assert fill.fill_vals == {
        "x": 4.5,
        "n": 4.0,
    }  # medians of the training rows (1, 3, 10, 6) and (4, 1, 2, 8, 5)
    assert table.classes["x_na"] == ["#na#", False, True] and table.classes["n_na"] == ["#na#", False, True]
    assert table.items["x_na"].tolist() == [1, 2, 1, 1, 2, 1, 1, 2]
    assert table.items["n_na"].tolist() == [1, 1, 2, 1, 1, 1, 1, 1]
    assert table.cat_names[-2:] == ["x_na", "n_na"]


def test_normalisation_statistics_are_the_training_rows(table):
    norm = next(p for p in table.procs.fs if isinstance(p, TabularNormalize))
    x = np.array([1.0, 4.5, 3.0, 10.0, 4.5, 6.0])  # training rows after filling
    n = np.array([4.0, 1.0, 4.0, 2.0, 8.0, 5.0])
    assert norm.means == {"x": x.mean(), "n": n.mean()}
    assert norm.stds == pytest.approx({"x": x.std() + norm.eps, "n": n.std() + norm.eps}, rel=1e-12)
    assert table.items["x"].dtype == np.float32
    expected = (np.array([1.0, 4.5, 3.0, 10.0, 4.5, 6.0, 1e6, 4.5]) - x.mean()) / (x.std() + norm.eps)
    np.testing.assert_allclose(table.items["x"].to_numpy(), expected.astype(np.float32), rtol=1e-6)


def test_new_rows_use_the_training_vocabularies(table):
    new = frame().iloc[[7, 0, 6]].reset_index(drop=True).drop(columns="y")
    out = table.new(new).items
    for col, (_, _, codes) in CATEGORICAL.items():
        assert out[col].tolist() == [codes[7], codes[0], codes[6]], col
