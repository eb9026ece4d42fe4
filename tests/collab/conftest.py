"""Shared fixtures: a small synthetic ratings table with known factors, and learners trained on it once."""

import pytest

from layered.collab.dataloaders import CollabDataLoaders
from layered.collab.learner import collab_learner
from layered.collab.synthetic import synthetic_ratings
from layered.core.seed import set_seed
from layered.train.metrics.regression import rmse

N_USERS, N_ITEMS, NOISE = 300, 200, 0.2


@pytest.fixture(scope="session")
def truth():
    """20,000 ratings from a rank-3 model with noise 0.2 (the best reachable RMSE)."""
    return synthetic_ratings(N_USERS, N_ITEMS, 20_000, n_factors=3, noise=NOISE, seed=0)


@pytest.fixture(scope="session")
def dls(truth):
    return CollabDataLoaders.from_df(truth.ratings, valid_pct=0.2, seed=0, bs=128)


def _trained(dls, epochs, lr, **kwargs):
    set_seed(0)
    learn = collab_learner(dls, metrics=rmse, **kwargs)
    with learn.no_logging():
        learn.fit_one_cycle(epochs, lr)
    return learn


@pytest.fixture(scope="session")
def dot_learner(dls):
    return _trained(dls, 6, 5e-2, n_factors=8)


@pytest.fixture(scope="session")
def nn_learner(dls, truth):
    low, high = float(truth.ratings["rating"].min()), float(truth.ratings["rating"].max())
    return _trained(dls, 6, 1e-2, use_nn=True, layers=[100, 50], y_range=(low - 0.5, high + 0.5), wd=0.1)
