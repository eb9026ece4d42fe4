"""layered-tabular on a real mixed table, beside scikit-learn's HistGradientBoostingClassifier on the same splits.

The data are the Palmer penguins (344 birds, shipped as CSV files inside the `palmerpenguins`
package, so no download): categorical columns with missing values, continuous measurements
with missing values, and a date. Two tasks:

- species (3 classes) from island, sex, the four body measurements and the year;
- sex (2 classes) from the raw study table: species, island, clutch completion, the
  measurements, two blood isotope ratios (often missing) and the egg date split by `add_datepart`.

Each task is run on `--splits` random 75/25 splits; both models see exactly the same rows and
the table reports mean and standard deviation of validation accuracy. Then one learner
predicts a row, is exported and loaded back, and must predict the same.

Run: python examples/tabular_demo.py [--splits 5] [--epochs 20]
"""

from __future__ import annotations

import argparse
import importlib.resources
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from layered.core.seed import set_seed
from layered.data.normalize import Normalize
from layered.tabular.dates import add_datepart
from layered.tabular.learner import tabular_learner
from layered.tabular.procs import Categorify, FillMissing
from layered.tabular.tabular_pandas import TabularDataLoaders
from layered.train.learner import load_learner
from layered.train.metrics.classification import accuracy

PROCS = [Categorify, FillMissing, Normalize]


def read_csv(name: str) -> pd.DataFrame:
    """One of the CSV files the palmerpenguins package ships."""
    return pd.read_csv(importlib.resources.files("palmerpenguins") / "data" / name)


def species_task() -> tuple[pd.DataFrame, list, list, str]:
    df = read_csv("penguins.csv")
    conts = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]
    return df, ["island", "sex"], conts, "species"


def sex_task() -> tuple[pd.DataFrame, list, list, str]:
    raw = read_csv("penguins-raw.csv")
    raw = raw[raw["Sex"].isin(["MALE", "FEMALE"])].reset_index(
        drop=True
    )  # unknown sex: nothing to learn from
    df = add_datepart(raw, "Date Egg", prefix="egg_")
    conts = ["Culmen Length (mm)", "Culmen Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]
    conts += ["Delta 15 N (o/oo)", "Delta 13 C (o/oo)", "egg_Year", "egg_Dayofyear", "egg_Elapsed"]
    return df, ["Species", "Island", "Clutch Completion"], conts, "Sex"


def learner_accuracy(df, cats, conts, y, valid_idx, epochs: int, seed: int):
    set_seed(seed)
    dls = TabularDataLoaders.from_df(
        df, procs=PROCS, cat_names=cats, cont_names=conts, y_names=y, valid_idx=valid_idx, bs=32
    )
    learn = tabular_learner(dls, layers=[200, 100], metrics=accuracy)
    with learn.no_logging():
        learn.fit_one_cycle(epochs, 1e-2)
    return learn.validate()[1], learn


def boosting_accuracy(df, cats, conts, y, valid_idx, seed: int) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = df[cats + conts].astype({c: "category" for c in cats})
    train = np.setdiff1d(np.arange(len(df)), valid_idx)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    model.fit(x.iloc[train], df[y].iloc[train])
    return float((model.predict(x.iloc[valid_idx]) == df[y].iloc[valid_idx].to_numpy()).mean())


def compare(name: str, task, n_splits: int, epochs: int):
    df, cats, conts, y = task()
    ours, theirs, last = [], [], None
    for seed in range(n_splits):
        valid_idx = np.sort(np.random.default_rng(seed).permutation(len(df))[: len(df) // 4])
        acc, last = learner_accuracy(df, cats, conts, y, valid_idx, epochs, seed)
        ours.append(acc)
        theirs.append(boosting_accuracy(df, cats, conts, y, valid_idx, seed))
    row = [name, f"{len(df)}", f"{statistics.mean(ours):.3f} ± {statistics.pstdev(ours):.3f}"]
    row.append(f"{statistics.mean(theirs):.3f} ± {statistics.pstdev(theirs):.3f}")
    return row, last, df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for name, task in (("species", species_task), ("sex", sex_task)):
        row, learn, df = compare(name, task, args.splits, args.epochs)
        rows.append(row)
    print(f"Validation accuracy over {args.splits} random 75/25 splits (mean ± std), {args.epochs} epochs\n")
    print("| task | rows | tabular_learner | HistGradientBoostingClassifier |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    # the last learner (sex task): predict one row, export, load, predict again
    row = df.drop(columns=["Sex"]).iloc[0]
    full, cls, probs = learn.predict(row)
    print(
        f"\npredict(row 0): {full['Sex'].iloc[0]} (class {int(cls)}, probabilities {probs.numpy().round(3)})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        learn.path = Path(tmp)
        loaded = load_learner(learn.export("penguins.safetensors"))
        again = loaded.predict(row)
    if not torch.allclose(again[2], probs, atol=1e-6) or again[0]["Sex"].iloc[0] != full["Sex"].iloc[0]:
        raise SystemExit("the exported learner predicts differently")
    print("exported and loaded back (safetensors + registered components only): same prediction")


if __name__ == "__main__":
    main()
