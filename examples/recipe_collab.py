"""Recipe: collab_learner on MovieLens-100k with the movie titles joined, then what the model learned.

The 100,000 ratings (943 users, 1,682 movies) and the titles come from the `ml-100k.inter` and
`ml-100k.item` files inside the `recbole` package on PyPI (fetched by `scripts/registry_data.py`).
As in the paper: `CollabDataLoaders.from_df(..., item_name='title')`, `collab_learner(n_factors=50,
y_range=(0, 5.5))`, `fit_one_cycle(5, 5e-3, wd=0.1)`; then the most and least liked movies by
learned bias and the movies at both ends of the first principal component of the factors.
Exits 1 when the validation MSE is above the ceiling.

Run: python examples/recipe_collab.py [--epochs 5]
"""

from __future__ import annotations

import argparse

import pandas as pd
from _recipe import Stopwatch, check_floor, fetch

from layered.collab.analysis import factor_pca
from layered.collab.dataloaders import CollabDataLoaders
from layered.collab.learner import collab_learner
from layered.core.seed import set_seed

__all__ = ["CEILING", "main", "read_ratings"]

CEILING = 0.83


def read_ratings() -> pd.DataFrame:
    """Ratings (user, title, rating) with each movie's title joined from the item file."""
    ratings = pd.read_csv(fetch("movielens_ratings"), sep="\t")
    ratings.columns = ["user", "movie", "rating", "timestamp"]
    items = pd.read_csv(fetch("movielens_items"), sep="\t", usecols=[0, 1, 2], dtype=str, encoding="latin-1")
    items.columns = ["movie", "name", "year"]
    items["movie"] = items["movie"].astype(int)
    # the paper's titles carry the year, which also keeps remakes of one name apart (one is `unkonwn`)
    items["title"] = items["name"] + " (" + items["year"].fillna("?") + ")"
    return ratings.merge(items[["movie", "title"]], on="movie")[["user", "title", "rating"]]


def main() -> None:
    """Train, report validation MSE, print the bias and PCA readings, check the ceiling."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    clock = Stopwatch()
    ratings = read_ratings()
    set_seed(args.seed)
    dls = CollabDataLoaders.from_df(ratings, item_name="title", bs=64, seed=args.seed)
    learn = collab_learner(dls, n_factors=50, y_range=(0, 5.5))
    with learn.no_bar():  # plain epoch rows: the output is often a CI log
        learn.fit_one_cycle(args.epochs, 5e-3, wd=0.1)
    mse = float(learn.validate()[0])

    # the paper's reading: movies people like (or not) whatever their taste, among well-rated ones
    counts = ratings["title"].value_counts()
    top = counts.index[:1000].tolist()
    bias = pd.Series(learn.model.bias(top).numpy(), index=top).sort_values()
    print(f"\nMovieLens-100k: {len(ratings)} ratings, validation MSE {mse:.4f} after {args.epochs} epochs")
    print("least liked by bias:", "; ".join(bias.index[:5]))
    print("most liked by bias: ", "; ".join(bias.index[::-1][:5]))
    coords = factor_pca(learn.model, top, n_components=3)
    pc1 = coords["pc1"].sort_values()
    ratio = coords.attrs["explained_variance_ratio"]
    print(f"factor PCA (share of variance {', '.join(f'{r:.3f}' for r in ratio)}):")
    print("  pc1 low: ", "; ".join(pc1.index[:5]))
    print("  pc1 high:", "; ".join(pc1.index[::-1][:5]))
    check_floor("collab movielens-100k validation MSE", mse, CEILING, clock, higher_is_better=False)


if __name__ == "__main__":
    main()
