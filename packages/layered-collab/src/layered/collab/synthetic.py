"""A synthetic ratings table drawn from a known low-rank model, so what a learner recovers can be checked.

No ratings data set ships inside the installed packages, so the tests, benchmark and demo draw
one from the model collaborative filtering assumes:

    rating(u, i) = mean + user_bias[u] + item_bias[i] + user_factors[u] · item_factors[i] + noise

with biases `N(0, bias_std²)`, factors `N(0, s²)` where `s = sqrt(interaction_std) / n_factors ** 0.25`
(so the dot product has standard deviation `interaction_std`), and noise `N(0, noise²)`.
`n_ratings` distinct (user, item) pairs are drawn uniformly. Ratings are not rounded or
clipped, so `noise` is exactly the best root mean squared error any model can reach (the
noise floor), and the true factors are there to compare learned ones with (`subspace_r2`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from layered.collab.errors import CollabError

__all__ = ["SyntheticRatings", "synthetic_ratings"]


@dataclass(frozen=True)
class SyntheticRatings:
    """The ratings and the truth behind them; row `k` of each array belongs to user (or item) id `k`."""

    ratings: pd.DataFrame
    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    mean: float
    noise: float

    def expected(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The noiseless rating of each (user, item) pair of ids: what a perfect model predicts."""
        users, items = np.asarray(users), np.asarray(items)
        dot = (self.user_factors[users] * self.item_factors[items]).sum(1)
        return self.mean + self.user_bias[users] + self.item_bias[items] + dot


def synthetic_ratings(
    n_users: int = 1000,
    n_items: int = 500,
    n_ratings: int = 50_000,
    n_factors: int = 4,
    noise: float = 0.25,
    mean: float = 3.5,
    bias_std: float = 0.5,
    interaction_std: float = 1.0,
    seed: int = 0,
) -> SyntheticRatings:
    """Draw `n_ratings` ratings of `n_items` items by `n_users` users from a rank-`n_factors` model.

    The table has integer `user` and `item` ids (`0..n_users-1`, `0..n_items-1`) and a float
    `rating`, in random order.
    """
    if min(n_users, n_items, n_ratings, n_factors) < 1:
        raise CollabError(
            f"synthetic_ratings needs positive sizes, got n_users={n_users}, n_items={n_items}, "
            f"n_ratings={n_ratings}, n_factors={n_factors}"
        )
    if n_ratings > n_users * n_items:
        raise CollabError(
            f"synthetic_ratings: n_ratings={n_ratings} exceeds the {n_users * n_items} distinct "
            f"(user, item) pairs of {n_users} users and {n_items} items"
        )
    if noise < 0 or bias_std < 0 or interaction_std < 0:
        raise CollabError(
            f"synthetic_ratings: noise, bias_std and interaction_std must be >= 0, got {noise}, "
            f"{bias_std}, {interaction_std}"
        )
    rng = np.random.default_rng(seed)
    scale = np.sqrt(interaction_std) / n_factors**0.25
    truth = SyntheticRatings(
        ratings=pd.DataFrame(),
        user_factors=rng.normal(0, scale, (n_users, n_factors)),
        item_factors=rng.normal(0, scale, (n_items, n_factors)),
        user_bias=rng.normal(0, bias_std, n_users),
        item_bias=rng.normal(0, bias_std, n_items),
        mean=float(mean),
        noise=float(noise),
    )
    pairs = rng.choice(n_users * n_items, size=n_ratings, replace=False)
    users, items = pairs // n_items, pairs % n_items
    rating = truth.expected(users, items) + rng.normal(0, noise, n_ratings)
    ratings = pd.DataFrame({"user": users, "item": items, "rating": rating.astype(np.float32)})
    return replace(truth, ratings=ratings)
