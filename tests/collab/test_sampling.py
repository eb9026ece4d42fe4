"""Weighted and partial collab loaders, made by `CollabDataLoaders.from_df(..., wgts= / partial_n=)`."""

import numpy as np
import pytest

from layered.collab.dataloaders import (
    CollabDataLoader,
    CollabDataLoaders,
    PartialCollabDataLoader,
    WeightedCollabDataLoader,
)
from layered.collab.synthetic import synthetic_ratings
from layered.core.seed import set_seed
from layered.data.errors import DataError


def test_weighted_and_partial_collab_loaders():
    ratings = synthetic_ratings(40, 30, 600, seed=1).ratings
    plain = CollabDataLoaders.from_df(ratings, valid_pct=0.2, seed=0, bs=32)
    first_user = plain.train.dataset.tensors[0][:, 0] == 1  # code 1: the first user of the vocabulary
    wgts = first_user.double().numpy() + 0.0
    dls = CollabDataLoaders.from_df(ratings, valid_pct=0.2, seed=0, bs=8, wgts=wgts, num_workers=2)
    assert type(dls.train) is WeightedCollabDataLoader and type(dls.valid) is CollabDataLoader
    set_seed(0)
    users = np.concatenate([codes[:, 0].numpy() for codes, _ in dls.train])
    assert len(users) == len(dls.train) * 8 and set(users.tolist()) == {1}

    partial = CollabDataLoaders.from_df(ratings, valid_pct=0.2, seed=0, bs=10, partial_n=50)
    assert type(partial.train) is PartialCollabDataLoader and len(partial.train) == 5
    rows = [tuple(r) for codes, _ in partial.train for r in codes.tolist()]
    assert len(rows) == 50

    with pytest.raises(DataError, match="WeightedCollabDataLoader: wgts"):
        CollabDataLoaders.from_df(ratings, valid_pct=0.2, seed=0, wgts=[1.0])
