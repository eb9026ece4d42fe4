"""The target procs: class labels or numbers, chosen from the y block or the dtype."""

import numpy as np
import pytest
from tabular_frames import make, mixed_frame, splits

from layered.data.blocks import CategoryBlock, RegressionBlock
from layered.tabular.errors import TabularError
from layered.tabular.targets import CategorizeTarget, RegressionTarget


def test_targets_from_dtype_and_block():
    df = mixed_frame()
    assert isinstance(make(df).y_proc, CategorizeTarget)
    reg = make(df, y_names="t")
    assert isinstance(reg.y_proc, RegressionTarget) and reg.c == 1 and not reg.is_classification
    assert reg.train.tensors[2].shape == (len(reg.splits[0]), 1)
    multi = make(df, cont_names=["a"], y_names=["t", "b"])
    assert multi.c == 2 and multi.train.tensors[2].shape[1] == 2
    df["code"] = df["size"].map({"S": 0, "M": 1, "L": 2, "XL": 3})
    ints = make(df, y_names="code")
    assert ints.is_classification and ints.classes["code"] == [0, 1, 2, 3]
    as_reg = make(df, y_names="code", y_block=RegressionBlock())
    assert as_reg.items["code"].dtype == np.float32
    given = make(df, y_block=CategoryBlock(vocab=["yes", "no"], sort=False))
    assert given.y_proc.vocab == ["yes", "no"] and given.items["y"].iloc[0] == ["yes", "no"].index(
        df["y"].iloc[0]
    )


def test_target_with_missing_values_is_named():
    df = mixed_frame()
    df.loc[7, "y"] = None
    with pytest.raises(TabularError, match=r"target column 'y' has 1 missing values \(first at row 7\)"):
        make(df)
    df = mixed_frame()
    df.loc[9, "t"] = np.nan
    with pytest.raises(TabularError, match=r"target column 't' has 1 missing"):
        make(df, y_names="t")


def test_unseen_target_label_raises_unless_add_na():
    df = mixed_frame()
    tr, va = splits(len(df))
    df.loc[va[0], "y"] = "maybe"
    with pytest.raises(TabularError, match=r"target column 'y' holds labels \['maybe'\]"):
        make(df, splits=(tr, va))
    to = make(df, splits=(tr, va), y_block=CategoryBlock(add_na=True))
    assert to.classes["y"] == ["#na#", "no", "yes"] and to.items.loc[va[0], "y"] == 0
