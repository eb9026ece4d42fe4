"""The procs: FillMissing, Categorify and TabularNormalize, fitted on the training rows."""

import numpy as np
import pandas as pd
import pytest
import torch
from tabular_frames import make, mixed_frame, splits

from layered.data.normalize import Normalize
from layered.tabular.errors import TabularError
from layered.tabular.procs import FillMissing, TabularNormalize


def test_procs_learn_from_training_rows_only():
    df = mixed_frame()
    tr, va = splits(len(df))
    df.loc[va, "b"] = 1e6  # validation values that would dominate any statistic they entered
    df.loc[va, "size"] = "XXL"  # a category only validation rows have
    to = make(df, splits=(tr, va))
    train_b = df["b"].iloc[tr].astype(np.float32).astype(np.float64)
    norm = next(p for p in to.procs.fs if isinstance(p, Normalize))
    assert norm.means["b"] == pytest.approx(train_b.mean(), rel=1e-6)
    assert norm.stds["b"] == pytest.approx(train_b.std(ddof=0), rel=1e-5)
    assert to.classes["size"] == ["#na#", "L", "M", "S", "XL"]
    assert (to.valid.items["size"] == 0).all()  # unseen at training: #na#
    fill = next(p for p in to.procs.fs if isinstance(p, FillMissing))
    assert fill.fill_vals["a"] == pytest.approx(df["a"].iloc[tr].median(), rel=1e-6)


def test_processed_values():
    df = mixed_frame()
    to = make(df)
    items = to.items
    assert to.cat_names == ["color", "size", "a_na"]
    assert items["a_na"].dtype.kind in "iu" and set(items["a_na"]) == {1, 2}  # False, True as codes
    assert list(items["a_na"] == 2) == list(df["a"].isna())
    vocab = to.classes["color"]
    assert vocab == ["#na#", "blue", "green", "red"]
    expected = [0 if pd.isna(c) else vocab.index(c) for c in df["color"]]
    assert items["color"].tolist() == expected
    train = to.train.items
    assert train["a"].mean() == pytest.approx(0, abs=1e-5) and train["b"].std(ddof=0) == pytest.approx(
        1, 1e-3
    )
    assert items["a"].dtype == np.float32 and not items["a"].isna().any()
    assert to.classes["y"] == ["no", "yes"] and items["y"].tolist() == [int(v == "yes") for v in df["y"]]
    assert to.is_classification and to.c == 2


def test_tabular_normalize_still_normalises_tensors():
    norm = TabularNormalize(mean=torch.tensor([1.0]), std=torch.tensor([2.0]))
    assert isinstance(norm, Normalize)
    x = torch.tensor([[3.0], [5.0]])
    assert torch.allclose(norm((x, torch.tensor([0, 1])))[0], torch.tensor([[1.0], [2.0]]))


def test_all_missing_columns_are_named():
    df = mixed_frame()
    df["a"] = np.nan
    with pytest.raises(TabularError, match=r"FillMissing: column 'a' has no value"):
        make(df)
    df = mixed_frame()
    df["color"] = None
    with pytest.raises(TabularError, match=r"Categorify: column 'color' has no value"):
        make(df)
