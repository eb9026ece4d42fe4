"""synthetic_ratings: distinct pairs, the documented model, and its noise floor."""

import numpy as np
import pytest

from layered.collab.errors import CollabError
from layered.collab.synthetic import synthetic_ratings


def test_table_and_truth_have_the_documented_shapes():
    s = synthetic_ratings(40, 30, 500, n_factors=2, seed=1)
    df = s.ratings
    assert list(df.columns) == ["user", "item", "rating"] and len(df) == 500
    assert df["user"].between(0, 39).all() and df["item"].between(0, 29).all()
    assert not df.duplicated(["user", "item"]).any()
    assert s.user_factors.shape == (40, 2) and s.item_factors.shape == (30, 2)
    assert s.user_bias.shape == (40,) and s.item_bias.shape == (30,)
    again = synthetic_ratings(40, 30, 500, n_factors=2, seed=1)
    assert again.ratings.equals(df) and np.array_equal(again.item_factors, s.item_factors)


def test_ratings_follow_the_low_rank_model_up_to_the_noise():
    s = synthetic_ratings(400, 300, 60_000, n_factors=4, noise=0.3, interaction_std=1.2, bias_std=0.5, seed=0)
    df = s.ratings
    residual = df["rating"].to_numpy() - s.expected(df["user"], df["item"])
    assert abs(residual.mean()) < 0.01 and residual.std() == pytest.approx(0.3, rel=0.02)
    dot = (s.user_factors[df["user"]] * s.item_factors[df["item"]]).sum(1)
    assert dot.std() == pytest.approx(1.2, rel=0.1)
    assert s.item_bias.std() == pytest.approx(0.5, rel=0.15)
    assert df["rating"].mean() == pytest.approx(3.5, abs=0.1)


def test_bad_sizes_are_refused():
    with pytest.raises(CollabError, match="exceeds the 6 distinct"):
        synthetic_ratings(2, 3, 7)
    with pytest.raises(CollabError, match="positive sizes"):
        synthetic_ratings(0, 3, 1)
    with pytest.raises(CollabError, match="must be >= 0"):
        synthetic_ratings(5, 5, 5, noise=-1)
