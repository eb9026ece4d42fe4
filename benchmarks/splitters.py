"""The splitters on a million items against hand-written torch / NumPy / pandas / scikit-learn splits, side by side.

Each row times one layered splitter (which returns two sorted lists of ints, checked for
emptiness, range, repeats and overlap) and the limit: the fastest hand-written split of the same
kind, returning arrays and checking nothing (`torch.randperm` and slices for the random split,
as in issue 19; a boolean mask for the index, column and function splits; scikit-learn's
`train_test_split` for `TrainTestSplitter`). The target is absolute: at most 0.1 s per split
of 1,000,000 items.

Run: python benchmarks/splitters.py [--items N] [--repeats R]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from _timing import fmt_time, interleaved, print_table, verdict

from layered.data.splitters import (
    ColSplitter,
    EndSplitter,
    FuncSplitter,
    IndexSplitter,
    MaskSplitter,
    RandomSplitter,
    RandomSubsetSplitter,
    TrainTestSplitter,
)

TARGET_S = 0.1


def randperm_split(n: int, valid_pct: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The issue's limit: a shuffled permutation cut in two."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = int(valid_pct * n)
    return perm[cut:], perm[:cut]


def mask_split(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.flatnonzero(~valid), np.flatnonzero(valid)


def index_split(n: int, valid_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = np.zeros(n, dtype=bool)
    valid[valid_idx] = True
    return mask_split(valid)


def sklearn_split(n: int, **kwargs):
    from sklearn.model_selection import train_test_split

    return train_test_split(np.arange(n), test_size=0.2, random_state=0, **kwargs)


def cases(n: int) -> dict[str, tuple]:
    """`{label: (layered, limit)}`, each a function of nothing."""
    items = range(n)
    rows = np.arange(n)
    df = pd.DataFrame({"is_valid": rows % 5 == 0, "fold": rows % 5, "year": 2000 + rows % 25})
    labels = rows % 7
    valid_idx = np.arange(0, n, 5)
    return {
        "RandomSplitter(0.2, seed=0)(range(n)) vs torch.randperm + slices": (
            lambda: RandomSplitter(0.2, seed=0)(items),
            lambda: randperm_split(n, 0.2, 0),
        ),
        "RandomSplitter(0.2, seed=0)(tensor) vs torch.randperm + slices": (
            lambda: RandomSplitter(0.2, seed=0)(torch.empty(n, 1)),
            lambda: randperm_split(n, 0.2, 0),
        ),
        "RandomSplitter(0.2, seed=0)(DataFrame) vs torch.randperm + slices": (
            lambda: RandomSplitter(0.2, seed=0)(df),
            lambda: randperm_split(n, 0.2, 0),
        ),
        "IndexSplitter(200k positions) vs a NumPy mask": (
            lambda: IndexSplitter(valid_idx)(items),
            lambda: index_split(n, valid_idx),
        ),
        "MaskSplitter(bool array) vs np.flatnonzero": (
            lambda: MaskSplitter(df["is_valid"].to_numpy())(items),
            lambda: mask_split(df["is_valid"].to_numpy()),
        ),
        "ColSplitter('is_valid') vs np.flatnonzero of the column": (
            lambda: ColSplitter()(df),
            lambda: mask_split(df["is_valid"].to_numpy()),
        ),
        "ColSplitter('fold', on=0) vs np.flatnonzero(column == 0)": (
            lambda: ColSplitter("fold", on=0)(df),
            lambda: mask_split(df["fold"].to_numpy() == 0),
        ),
        "FuncSplitter(df.year >= 2020, batched=True) vs the same mask": (
            lambda: FuncSplitter(lambda d: d["year"] >= 2020, batched=True)(df),
            lambda: mask_split((df["year"] >= 2020).to_numpy()),
        ),
        "EndSplitter(0.2) vs np.arange slices": (
            lambda: EndSplitter(0.2)(items),
            lambda: (np.arange(int(0.8 * n)), np.arange(int(0.8 * n), n)),
        ),
        "RandomSubsetSplitter(0.5, 0.1, seed=0) vs torch.randperm + slices": (
            lambda: RandomSubsetSplitter(0.5, 0.1, seed=0)(items),
            lambda: randperm_split(n, 0.1, 0),
        ),
        "TrainTestSplitter(0.2) vs sklearn train_test_split": (
            lambda: TrainTestSplitter(0.2, random_state=0)(items),
            lambda: sklearn_split(n),
        ),
        "TrainTestSplitter(0.2, stratify=7 classes) vs sklearn, stratified": (
            lambda: TrainTestSplitter(0.2, random_state=0, stratify=labels)(items),
            lambda: sklearn_split(n, stratify=labels),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{args.items:,} items; torch {torch.__version__}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"median of {args.repeats} interleaved repeats\n"
    )
    rows = []
    for label, (ours, limit) in cases(args.items).items():
        t = interleaved({"layered": ours, "limit": limit}, number=1, repeats=args.repeats)
        a, b = t["layered"], t["limit"]
        rows.append(
            [label, fmt_time(a), fmt_time(b), f"{a / b:.2f}×", f"≤{TARGET_S} s", verdict(a, TARGET_S)]
        )
    print_table(["split of the items", "layered", "limit", "ratio", "target", "result"], rows)


if __name__ == "__main__":
    main()
