"""TabularPandas and its procs: fitted on training rows only, applied to every row, decoded back, bad input named."""

import numpy as np
import pandas as pd
import pytest
import torch
from tabular_frames import CATS, CONTS, make, mixed_frame, splits

from layered.data.normalize import Normalize
from layered.tabular.errors import TabularError
from layered.tabular.procs import Categorify, FillMissing, TabularNormalize
from layered.tabular.tab_loader import TabDataLoader
from layered.tabular.tabular_pandas import TabularDataLoaders, TabularPandas
from layered.train.losses.default import default_loss
from layered.train.losses.flattened import CrossEntropyLossFlat, MSELossFlat

PROCS = [Categorify, FillMissing, Normalize]


def dls_of(df=None, **kwargs):
    df = mixed_frame() if df is None else df
    kwargs = {"procs": PROCS, "cat_names": CATS, "cont_names": CONTS, "y_names": "y", "bs": 32, **kwargs}
    return TabularDataLoaders.from_df(df, **kwargs)


def test_decode_gives_the_original_values():
    df = mixed_frame()
    to = make(df)
    dec = to.decode()
    assert list(dec["color"].astype(object).fillna("?")) == list(df["color"].fillna("?"))
    assert dec["color"].isna().sum() == df["color"].isna().sum() > 0
    np.testing.assert_allclose(dec["a"].to_numpy(dtype=float), df["a"].to_numpy(), rtol=1e-5)  # NaN restored
    assert dec["a"].isna().sum() == df["a"].isna().sum() > 0
    np.testing.assert_allclose(dec["b"].to_numpy(dtype=float), df["b"].to_numpy(), rtol=1e-5)
    assert list(dec["y"]) == list(df["y"])
    shown = to.show(max_n=3, show=False)
    assert len(shown) == 3 and list(shown["y"]) == list(df["y"][:3])


def test_tensors_and_items():
    to = make()
    cats, conts, ys = to.train.tensors
    n = len(to.splits[0])
    assert cats.dtype == torch.int64 and cats.shape == (n, 3)
    assert conts.dtype == torch.float32 and conts.shape == (n, 2)
    assert ys.dtype == torch.int64 and ys.shape == (n,)
    item = to.train[5]
    assert torch.equal(item[0], cats[5]) and torch.equal(item[1], conts[5]) and item[2] == ys[5]
    assert len(to.train) == n and len(to.valid) == len(to.splits[1])


def test_new_rows_use_the_fitted_procs():
    df = mixed_frame()
    to = make(df)
    rows = pd.DataFrame(
        {
            "color": ["red", "purple", None],
            "size": ["S", "S", "M"],
            "a": [np.nan, 1.0, 2.0],
            "b": [10.0, 1, 2],
        }
    )
    new = to.new(rows)
    assert new.items["color"].tolist() == [3, 0, 0]  # purple was never seen: #na#
    fill = next(p for p in to.procs.fs if isinstance(p, FillMissing))
    norm = next(p for p in to.procs.fs if isinstance(p, Normalize))
    expected = (fill.fill_vals["a"] - norm.means["a"]) / norm.stds["a"]
    assert new.items["a"].iloc[0] == pytest.approx(expected, rel=1e-5)
    assert new.items["a_na"].tolist() == [2, 1, 1]
    assert not new.has_targets and len(new.tensors) == 2
    assert rows["color"].iloc[0] == "red" and rows["a"].isna().iloc[0]  # the caller's frame is untouched


def test_inplace_and_reduce_memory():
    df = mixed_frame()
    to = make(df)
    assert df["color"].iloc[0] in ("red", "green", "blue", None)  # copied by default
    kept = make(df, procs=[Categorify], cont_names=["b"], splits=None)
    assert kept.items["b"].dtype == np.float32  # reduce_memory shrank it
    kept = make(df, procs=[Categorify], cont_names=["b"], splits=None, reduce_memory=False)
    assert kept.items["b"].dtype == np.float64
    make(df, inplace=True)
    assert df["color"].dtype.kind in "iu" and "a_na" in df.columns
    assert to.valid.items.index.equals(pd.Index(splits(len(df))[1]))


def test_export_state_round_trip():
    to = make()
    empty = to.new_empty()
    clone = TabularPandas.__new__(TabularPandas)
    clone.__setstate__(empty.__getstate__())
    assert list(clone.items.columns) == list(empty.items.columns) and len(clone) == 0
    assert list(clone.items.dtypes) == list(empty.items.dtypes)
    rows = mixed_frame(5, seed=3).drop(columns=["y"])
    assert clone.new(rows).items.equals(to.new(rows).items)


def test_normalize_in_procs_is_the_column_proc_and_one_object_everywhere():
    # fastai's spelling: the class Normalize among the procs runs TabularNormalize on the columns
    to = make(procs=[FillMissing, Normalize])
    norm = next(p for p in to.procs.fs if isinstance(p, Normalize))
    assert type(norm) is TabularNormalize and set(norm.means) == set(to.cont_names)
    assert abs(float(to.train.conts.mean().mean())) < 1e-6
    with pytest.raises(TabularError, match="procs\\[1\\] is a Normalize instance, which normalizes batches"):
        make(procs=[FillMissing, Normalize()])


# ---- bad input --------------------------------------------------------------------------
def test_missing_columns_are_named():
    with pytest.raises(TabularError, match=r"no column\(s\) \['colour'\].*color"):
        make(cat_names=["colour"])
    to = make()
    with pytest.raises(TabularError, match=r"\['b'\]"):
        to.new(mixed_frame(5).drop(columns=["b"]))


def test_continuous_column_with_strings_is_named():
    df = mixed_frame()
    df["b"] = df["b"].astype(object)
    df.loc[3, "b"] = "n/a"
    with pytest.raises(TabularError, match=r"continuous column 'b' holds non-numbers.*'n/a'"):
        make(df)
    df.loc[3, "b"] = 4.0  # numbers held as objects are fine
    assert make(df).items["b"].dtype == np.float32


def test_other_configuration_errors():
    with pytest.raises(TabularError, match="'a' is in both cat_names and cont_names"):
        make(cat_names=["color", "a"])
    with pytest.raises(TabularError, match=r"procs\[0\] is 'Categorify'"):
        make(procs=["Categorify"])
    with pytest.raises(TabularError, match="overlap"):
        make(splits=([0, 1, 2], [2, 3]))
    with pytest.raises(TabularError, match="holds str values, not codes: add Categorify"):
        make(procs=[FillMissing, Normalize]).train.tensors
    with pytest.raises(TabularError, match=r"'a' has .* missing values after the procs: add FillMissing"):
        make(procs=[Categorify]).train.tensors
    with pytest.raises(TabularError, match="no validation split"):
        make(splits=None).valid


def test_from_df_splits_and_loss():
    df = mixed_frame()
    dls = dls_of(df, valid_idx=[0, 5, 9])
    assert dls.valid_ds.items.index.tolist() == [0, 5, 9] and len(dls.train_ds) == len(df) - 3
    dls = dls_of(df, valid_pct=0.25, seed=1)
    assert len(dls.valid_ds) == 100 and set(dls.valid_ds.items.index).isdisjoint(dls.train_ds.items.index)
    assert dls_of(df, valid_pct=0.25, seed=1).valid_ds.items.index.equals(dls.valid_ds.items.index)
    assert isinstance(default_loss(dls), CrossEntropyLossFlat) and dls.n_inp == 2
    reg = dls_of(df, y_names="t", val_bs=7)
    assert isinstance(default_loss(reg), MSELossFlat) and reg.valid.bs == 7


def test_from_csv(tmp_path):
    csv = tmp_path / "rows.csv"
    mixed_frame().to_csv(csv, index=False)
    dls = TabularDataLoaders.from_csv(csv, procs=PROCS, cat_names=CATS, cont_names=CONTS, y_names="y", seed=0)
    assert dls.path == tmp_path and len(dls.train_ds) + len(dls.valid_ds) == 400
    with pytest.raises(TabularError, match="is not a file"):
        TabularDataLoaders.from_csv(tmp_path / "nope.csv")


def test_test_dl_processes_new_rows_like_training_rows():
    df = mixed_frame()
    dls = dls_of(df, valid_idx=list(range(100)))
    dl = dls.test_dl(df.iloc[:10])
    assert isinstance(dl, TabDataLoader) and not dl.shuffle
    b = dl.one_batch()
    assert len(b) == 2  # no targets
    valid = dls.valid.dataset.tensors
    assert torch.equal(b[0], valid[0][:10]) and torch.allclose(b[1], valid[1][:10])
    labelled = dls.test_dl(df.iloc[:10], with_labels=True).one_batch()
    assert torch.equal(labelled[2], valid[2][:10])
    rows = dls.test_dl([df.iloc[3], df.iloc[4]]).one_batch()  # a list of rows (Series of objects)
    assert torch.equal(rows[0], valid[0][3:5]) and torch.allclose(rows[1], valid[1][3:5])
    with pytest.raises(TabularError, match=r"no target column\(s\) \['y'\]"):
        dls.test_dl(df.iloc[:3].drop(columns=["y"]), with_labels=True)


def test_loaders_answer_vocab_c_classes_and_column_names():
    dls = dls_of()
    assert list(dls.vocab) == ["no", "yes"] and dls.c == 2
    assert (
        dls.cat_names == [*CATS, "a_na"] and dls.cont_names == CONTS and dls.y_names == ["y"]
    )  # FillMissing adds a_na
    assert list(dls.classes["y"]) == ["no", "yes"] and "red" in list(dls.classes["color"])
    regression = dls_of(y_names="t", y_block=None)
    assert regression.vocab is None and regression.c == 1 and regression.y_names == ["t"]


def test_infinite_numbers_are_refused_naming_the_column():
    df = mixed_frame()
    df.loc[5, "b"] = np.inf
    with pytest.raises(TabularError, match=r"continuous column 'b' has 1 infinite values \(first at row 5"):
        make(df)
    target = mixed_frame()
    target.loc[3, "t"] = -np.inf
    with pytest.raises(TabularError, match="regression target column 't' has 1 infinite values"):
        make(target, y_names="t")
    dls = dls_of()
    row = mixed_frame().iloc[:2].copy()
    row.loc[row.index[1], "a"] = np.inf
    with pytest.raises(TabularError, match="continuous column 'a' has 1 infinite"):
        dls.test_dl(row)
