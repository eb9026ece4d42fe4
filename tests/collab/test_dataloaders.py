"""CollabDataLoaders: vocabularies from training rows, #na# for unseen ids, sliced batches, decoding, test_dl."""

import numpy as np
import pandas as pd
import pytest
import torch

from layered.collab.dataloaders import CollabDataLoader, CollabDataLoaders, TabularCollab
from layered.collab.errors import CollabError
from layered.tabular.errors import TabularError
from layered.train.losses.default import default_loss
from layered.train.losses.flattened import MSELossFlat


def small_ratings(n=200, seed=0):
    rng = np.random.default_rng(seed)
    users = rng.choice(["ann", "bob", "cy", "dee", "eve"], n)
    items = rng.integers(100, 110, n)
    return pd.DataFrame({"who": users, "movie": items, "stars": rng.integers(1, 6, n), "extra": 0})


def test_from_df_takes_the_first_three_columns_and_learns_vocabularies_from_training():
    df = small_ratings()
    dls = CollabDataLoaders.from_df(df, valid_pct=0.25, seed=0, bs=16)
    assert (dls.user_name, dls.item_name, dls.rating_name) == ("who", "movie", "stars")
    assert dls.n_inp == 1 and isinstance(default_loss(dls), MSELossFlat)
    assert dls.classes["who"] == ["#na#", "ann", "bob", "cy", "dee", "eve"]
    assert dls.classes["movie"][0] == "#na#" and dls.classes["movie"][1:] == sorted(
        set(df.loc[dls.train_ds.items.index, "movie"])
    )
    assert len(dls.train_ds) == 150 and len(dls.valid_ds) == 50


def test_ids_only_in_validation_map_to_na():
    df = small_ratings()
    df.loc[199, "who"] = "zed"  # one rating by a user who may land only in validation
    dls = CollabDataLoaders.from_df(df, valid_pct=0.25, seed=0, bs=16)
    in_train = 199 in dls.train_ds.items.index
    codes = (dls.train_ds if in_train else dls.valid_ds).items.loc[199, "who"]
    assert (codes > 0) == in_train and ("zed" in dls.classes["who"]) == in_train


def test_batches_are_codes_and_float_ratings_sliced_from_memory(monkeypatch):
    df = small_ratings()
    dls = CollabDataLoaders.from_df(
        df, user_name="who", item_name="movie", rating_name="stars", seed=0, bs=16
    )
    assert isinstance(dls.train, CollabDataLoader) and dls.train.fast_path

    def no_rows(self, i):
        raise AssertionError("a batch was built row by row")

    monkeypatch.setattr(TabularCollab, "__getitem__", no_rows)
    x, y = dls.one_batch()
    assert x.shape == (16, 2) and x.dtype == torch.int64 and y.shape == (16, 1) and y.dtype == torch.float32
    batches = list(dls.valid)
    assert sum(len(b[0]) for b in batches) == len(dls.valid_ds)
    vx, vy = dls.valid_ds.tensors
    assert torch.equal(torch.cat([b[0] for b in batches]), vx) and torch.equal(
        torch.cat([b[1] for b in batches]), vy
    )


def test_show_batch_decodes_back_to_the_original_rows():
    df = small_ratings()
    dls = CollabDataLoaders.from_df(df, seed=0, bs=8, shuffle=False)
    shown = dls.show_batch(max_n=5, show=False)
    first = df.loc[dls.train_ds.items.index[:5]]
    assert list(shown.columns) == ["who", "movie", "stars"]
    assert list(shown["who"]) == list(first["who"]) and list(shown["movie"]) == list(first["movie"])
    assert np.allclose(shown["stars"].astype(float), first["stars"])


def test_test_dl_takes_pairs_dicts_series_and_frames():
    df = small_ratings()
    dls = CollabDataLoaders.from_df(df, seed=0, bs=8)
    known = dls.classes["who"].index("bob"), dls.classes["movie"].index(103)
    for rows in (
        [("bob", 103), ("nobody", 999)],
        [{"who": "bob", "movie": 103}, {"who": "nobody", "movie": 999}],
        [
            pd.Series({"who": "bob", "movie": 103, "stars": 4}),
            pd.Series({"who": "nobody", "movie": 999, "stars": 2}),
        ],
        pd.DataFrame({"who": ["bob", "nobody"], "movie": [103, 999]}),
    ):
        batch = dls.test_dl(rows).one_batch()
        codes = batch[0] if isinstance(batch, tuple) else batch
        assert codes.tolist() == [list(known), [0, 0]]  # the unknown user and item are #na#
    labelled = dls.test_dl(df.iloc[:3], with_labels=True).one_batch()
    assert torch.allclose(
        labelled[1][:, 0], torch.tensor(df["stars"].iloc[:3].to_numpy(), dtype=torch.float32)
    )


def test_from_csv(tmp_path):
    df = small_ratings()
    file = tmp_path / "ratings.csv"
    df.to_csv(file, index=False)
    dls = CollabDataLoaders.from_csv(file, seed=0, bs=8)
    assert dls.path == tmp_path and dls.classes["who"][1:] == ["ann", "bob", "cy", "dee", "eve"]
    with pytest.raises(CollabError, match="is not a file"):
        CollabDataLoaders.from_csv(tmp_path / "missing.csv")


def test_bad_input_raises_naming_the_problem():
    df = small_ratings()
    with pytest.raises(CollabError, match="at least three"):
        CollabDataLoaders.from_df(df[["who", "movie"]])
    with pytest.raises(CollabError, match="three columns"):
        CollabDataLoaders.from_df(df, user_name="who", item_name="who", rating_name="stars")
    with pytest.raises(TabularError, match="no column"):
        CollabDataLoaders.from_df(df, user_name="user", item_name="movie", rating_name="stars")
    with pytest.raises(TabularError, match="expected numbers"):
        CollabDataLoaders.from_df(df.assign(stars="good"))
    with pytest.raises(CollabError, match="DataFrame"):
        CollabDataLoaders.from_df(df.to_numpy())
    dls = CollabDataLoaders.from_df(df, seed=0)
    with pytest.raises(CollabError, match="row 1 is"):
        dls.test_dl([("bob", 103), ("bob",)])
    with pytest.raises(CollabError, match="a single pair goes in a list"):
        dls.test_dl(("bob", 103))
    with pytest.raises(CollabError, match="no rating column"):
        dls.test_dl([("bob", 103)], with_labels=True)
