"""layered-collab on synthetic ratings whose true factors are known: RMSE against the noise floor, factors recovered.

No ratings data set ships inside the installed packages, so the ratings are drawn by
`synthetic_ratings` from the model collaborative filtering assumes (biases plus a rank-5 dot
product plus Gaussian noise of 0.3). That makes the verdict exact: no model can beat an RMSE of
0.3 (the noise floor), a model of user and item biases alone shows what the interactions are
worth, and the learned item factors can be compared with the true ones up to the linear map
any factorisation is free to apply (`subspace_r2`).

The script trains the dot model (`EmbeddingDotBias`) and the network (`EmbeddingNN`), prints
their validation RMSE beside those two references, the recovery of the true factors, the
principal components of the learned item factors, a prediction for one (user, item) pair and
for a user never seen in training, and checks that an exported learner predicts the same.

Run: python examples/collab_demo.py [--users 2000] [--items 1000] [--ratings 150000] [--epochs 5] [--threads 1]
(`--threads` defaults to 1: on a busy 2-core machine more torch threads wait on each other and
an epoch can take a hundred times longer; raise it on a quiet one.)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from layered.collab.analysis import factor_pca, subspace_r2
from layered.collab.dataloaders import CollabDataLoaders
from layered.collab.learner import collab_learner
from layered.collab.synthetic import SyntheticRatings, synthetic_ratings
from layered.core.seed import set_seed
from layered.train.learner import Learner, load_learner
from layered.train.metrics.regression import rmse


def bias_only_rmse(dls: CollabDataLoaders) -> float:
    """Validation RMSE of the global mean plus a user and an item offset fitted on the training rows."""
    train, valid, r = dls.train_ds.items, dls.valid_ds.items, dls.rating_name
    mean = train[r].mean()
    user = (train[r] - mean).groupby(train[dls.user_name]).mean()
    item = (train[r] - mean - train[dls.user_name].map(user)).groupby(train[dls.item_name]).mean()
    pred = mean + valid[dls.user_name].map(user).fillna(0) + valid[dls.item_name].map(item).fillna(0)
    return float(np.sqrt(((valid[r] - pred) ** 2).mean()))


def train(dls: CollabDataLoaders, epochs: int, use_nn: bool) -> Learner:
    set_seed(0)
    if use_nn:
        learn = collab_learner(dls, use_nn=True, layers=[100, 50], y_range=(-1.0, 8.0), metrics=rmse, wd=0.1)
        lr = 3e-3
    else:
        learn = collab_learner(dls, n_factors=20, metrics=rmse, wd=0.05)
        lr = 3e-2
    with learn.no_bar():
        learn.fit_one_cycle(epochs, lr)
    return learn


def report_factors(learn: Learner, truth: SyntheticRatings) -> None:
    items, users = range(len(truth.item_factors)), range(len(truth.user_factors))
    known_items = [i for i in items if i in set(learn.dls.classes["item"][1:])]
    known_users = [u for u in users if u in set(learn.dls.classes["user"][1:])]
    r2_items = subspace_r2(learn.model.weight(known_items), truth.item_factors[known_items])
    r2_users = subspace_r2(learn.model.weight(known_users, is_item=False), truth.user_factors[known_users])
    print(
        f"true factors explained by the learned ones (R², up to a linear map): items {r2_items:.3f}, users {r2_users:.3f}"
    )
    coords = factor_pca(learn.model, known_items, n_components=3)
    shares = ", ".join(f"{s:.2f}" for s in coords.attrs["explained_variance_ratio"])
    print(f"principal components of the learned item factors: variance shares {shares}")
    # each principal component lies in the true factor space: regress it on the true factors
    true = truth.item_factors[known_items]
    for pc in coords.columns:
        print(f"  {pc}: R² on the true item factors {subspace_r2(true, coords[[pc]].to_numpy()):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--ratings", type=int, default=150_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    truth = synthetic_ratings(args.users, args.items, args.ratings, n_factors=5, noise=0.3, seed=0)
    dls = CollabDataLoaders.from_df(truth.ratings, valid_pct=0.2, seed=0, bs=256)
    print(f"{args.ratings:,} ratings of {args.items:,} items by {args.users:,} users (rank 5, noise 0.3)")
    dls.show_batch(max_n=3)
    print(
        f"\nnoise floor (best reachable RMSE): {truth.noise:.3f}; user + item biases alone: {bias_only_rmse(dls):.3f}\n"
    )

    dot = train(dls, args.epochs, use_nn=False)
    print(f"\nEmbeddingDotBias(20 factors): validation RMSE {dot.validate()[1]:.3f}")
    report_factors(dot, truth)
    net = train(dls, args.epochs, use_nn=True)
    print(f"\nEmbeddingNN([100, 50]): validation RMSE {net.validate()[1]:.3f}\n")

    dot.show_results(max_n=5)
    user, item = 7, 3
    _, value, _ = dot.predict((user, item))
    print(
        f"\npredict(({user}, {item})): {float(value[0]):.3f}; noiseless truth {truth.expected([user], [item])[0]:.3f}"
    )
    _, stranger, _ = dot.predict(("a new user", item))
    print(f"a user never seen in training (the #na# embedding): {float(stranger[0]):.3f}")

    with tempfile.TemporaryDirectory() as tmp:
        dot.path = Path(tmp)
        loaded = load_learner(dot.export("collab.safetensors"))
        same = torch.allclose(loaded.predict((user, item))[1], value, atol=1e-6)
        print(f"exported and loaded back: same prediction {same}")


if __name__ == "__main__":
    main()
