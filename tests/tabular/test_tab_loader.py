"""TabDataLoader: batches sliced from a TabularPandas' tensors (the fast path), decoding and shows."""

import numpy as np
import pandas as pd
import pytest
import torch
from tabular_frames import CATS, CONTS, mixed_frame, splits

from layered.data.loader import DataLoader
from layered.data.normalize import Normalize
from layered.tabular.errors import TabularError
from layered.tabular.procs import Categorify, FillMissing
from layered.tabular.tab_loader import TabDataLoader
from layered.tabular.tabular_pandas import TabularDataLoaders, TabularPandas

PROCS = [Categorify, FillMissing, Normalize]


def dls_of(df=None, **kwargs):
    df = mixed_frame() if df is None else df
    kwargs = {"procs": PROCS, "cat_names": CATS, "cont_names": CONTS, "y_names": "y", "bs": 32, **kwargs}
    return TabularDataLoaders.from_df(df, **kwargs)


def test_batches_are_slices_of_the_tensors():
    dls = dls_of(valid_idx=list(range(100)))
    train, valid = dls.train, dls.valid
    assert train.fast_path and valid.fast_path
    tensors = valid.dataset.tensors
    b = valid.one_batch()
    assert all(torch.equal(part, t[:32]) for part, t in zip(b, tensors))
    seen = torch.cat([b[2] for b in valid])
    assert torch.equal(seen, tensors[2])  # every validation row once, in order
    batches = list(train)
    assert len(batches) == len(train) == 300 // 32 and all(len(b[0]) == 32 for b in batches)
    rows = torch.cat([b[1] for b in batches])
    assert len({tuple(r.tolist()) for r in rows}) == len(rows)  # shuffled without repeats


def test_fast_path_does_not_collate_rows(monkeypatch):
    dls = dls_of(valid_idx=list(range(100)))
    monkeypatch.setattr(DataLoader, "create_item", lambda self, i: pytest.fail("a row was read on its own"))
    assert len(list(dls.valid)) == 4


def test_per_item_path_gives_the_same_batches():
    dls = dls_of(valid_idx=list(range(100)))
    slow = dls.valid.new(in_memory=False)
    assert not slow.fast_path
    for a, b in zip(slow, dls.valid):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_show_batch_and_decoding():
    df = mixed_frame()
    dls = dls_of(df, valid_idx=list(range(100)))
    frame = dls.valid.show_batch(max_n=5, show=False)
    assert list(frame.columns) == ["color", "size", "a_na", "a", "b", "y"] and len(frame) == 5
    assert list(frame["y"]) == list(df["y"][:5])
    np.testing.assert_allclose(frame["b"].to_numpy(dtype=float), df["b"][:5].to_numpy(), rtol=1e-5)
    assert frame["a"].isna().tolist() == df["a"][:5].isna().tolist()
    items = dls.valid.decode_batch(dls.valid.one_batch(), max_n=3)
    cats, conts, row = items[1]
    assert cats["size"] == df["size"][1] and conts["b"] == pytest.approx(df["b"][1], rel=1e-5)
    assert isinstance(row, pd.DataFrame) and row["y"].iloc[0] == df["y"][1]
    printed = dls.show_batch(max_n=2)
    assert len(printed) == 2


def test_show_results_puts_predictions_beside_targets():
    df = mixed_frame()
    dls = dls_of(df, valid_idx=list(range(100)))
    b = dls.valid.one_batch()
    preds = 1 - b[2]  # every prediction wrong, to see them decoded
    frame = dls.valid.show_results(b, preds, max_n=4, show=False)
    assert list(frame["y"]) == list(df["y"][:4])
    assert list(frame["y_pred"]) == ["yes" if y == "no" else "no" for y in df["y"][:4]]


def test_multi_target_decoding():
    dls = dls_of(cont_names=["a"], y_names=["t", "b"], valid_idx=list(range(50)))
    b = dls.valid.one_batch()
    assert b[2].shape == (32, 2)
    frame = dls.valid.show_results(b, b[2] + 1, max_n=3, show=False)
    np.testing.assert_allclose(frame["t_pred"].to_numpy() - frame["t"].to_numpy(), 1, rtol=1e-5)


def test_loader_needs_a_tabular_pandas():
    with pytest.raises(TabularError, match="needs a TabularPandas, got list"):
        TabDataLoader([1, 2, 3])
    to = TabularPandas(mixed_frame(), PROCS, CATS, CONTS, "y", splits=splits(400))
    dls = to.dataloaders(bs=16)
    assert isinstance(dls, TabularDataLoaders) and dls.train.bs == 16 and dls.train.drop_last
