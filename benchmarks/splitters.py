"""The splitters on a million items against hand-written torch / NumPy / pandas / scikit-learn splits, side by side.

Each row times one layered splitter, called (two sorted lists of ints) and through
`.positions` (the same split as int64 arrays), both checked for emptiness, range, repeats and
overlap, and the limit: the fastest hand-written split of the same kind, returning arrays and
checking nothing (`torch.randperm` and slices for the random split, as in issue 19; a boolean
mask for the index, column and function splits; scikit-learn's `train_test_split` for
`TrainTestSplitter`). The target is absolute: at most 0.1 s per split of 1,000,000 items.

Times are this process's CPU seconds (`time.process_time`) unless `--wall`: on a machine that
other jobs crowd, wall time measures them too. Every side runs on one thread.

Run: python benchmarks/splitters.py [--items N] [--repeats R] [--wall]
"""

from __future__ import annotations

import argparse
import time

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
    """`{label: (layered splitter, the items it splits, the limit: a function of nothing)}`."""
    items = range(n)
    rows = np.arange(n)
    df = pd.DataFrame({"is_valid": rows % 5 == 0, "fold": rows % 5, "year": 2000 + rows % 25})
    labels = rows % 7
    valid_idx = np.arange(0, n, 5)
    return {
        "RandomSplitter(0.2, seed=0), range vs torch.randperm + slices": (
            RandomSplitter(0.2, seed=0), items, lambda: randperm_split(n, 0.2, 0)
        ),
        "RandomSplitter(0.2, seed=0), tensor vs torch.randperm + slices": (
            RandomSplitter(0.2, seed=0), torch.empty(n, 1), lambda: randperm_split(n, 0.2, 0)
        ),
        "RandomSplitter(0.2, seed=0), DataFrame vs torch.randperm + slices": (
            RandomSplitter(0.2, seed=0), df, lambda: randperm_split(n, 0.2, 0)
        ),
        "IndexSplitter(200k positions) vs a NumPy mask": (
            IndexSplitter(valid_idx), items, lambda: index_split(n, valid_idx)
        ),
        "MaskSplitter(bool array) vs np.flatnonzero": (
            MaskSplitter(df["is_valid"].to_numpy()), items, lambda: mask_split(df["is_valid"].to_numpy())
        ),
        "ColSplitter('is_valid') vs np.flatnonzero of the column": (
            ColSplitter(), df, lambda: mask_split(df["is_valid"].to_numpy())
        ),
        "ColSplitter('fold', on=0) vs np.flatnonzero(column == 0)": (
            ColSplitter("fold", on=0), df, lambda: mask_split(df["fold"].to_numpy() == 0)
        ),
        "FuncSplitter(df.year >= 2020, batched=True) vs the same mask": (
            FuncSplitter(lambda d: d["year"] >= 2020, batched=True), df,
            lambda: mask_split((df["year"] >= 2020).to_numpy()),
        ),
        "EndSplitter(0.2) vs np.arange slices": (
            EndSplitter(0.2), items, lambda: (np.arange(int(0.8 * n)), np.arange(int(0.8 * n), n))
        ),
        "RandomSubsetSplitter(0.5, 0.1, seed=0) vs torch.randperm + slices": (
            RandomSubsetSplitter(0.5, 0.1, seed=0), items, lambda: randperm_split(n, 0.1, 0)
        ),
        "TrainTestSplitter(0.2) vs sklearn train_test_split": (
            TrainTestSplitter(0.2, random_state=0), items, lambda: sklearn_split(n)
        ),
        "TrainTestSplitter(0.2, stratify=7 classes) vs sklearn, stratified": (
            TrainTestSplitter(0.2, random_state=0, stratify=labels), items, lambda: sklearn_split(n, stratify=labels)
        ),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--wall", action="store_true", help="wall-clock seconds instead of CPU seconds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    timer = time.perf_counter if args.wall else time.process_time
    print(
        f"{args.items:,} items; torch {torch.__version__}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"{'wall' if args.wall else 'CPU'} seconds, median of {args.repeats} interleaved repeats\n"
    )
    rows = []
    for label, (splitter, items, limit) in cases(args.items).items():
        sides = {
            "lists": lambda s=splitter, x=items: s(x),
            "arrays": lambda s=splitter, x=items: s.positions(x),
            "limit": limit,
        }
        t = interleaved(sides, number=1, repeats=args.repeats, timer=timer)
        lists, arrays, plain = t["lists"], t["arrays"], t["limit"]
        rows.append([label, fmt_time(lists), fmt_time(arrays), fmt_time(plain), f"{lists / plain:.2f}×",
                     f"{arrays / plain:.2f}×", f"≤{TARGET_S} s", verdict(lists, TARGET_S)])  # fmt: skip
    headers = ["split of the items", "layered (lists)", "layered .positions", "limit", "ratio (lists)",
               "ratio (.positions)", "target (lists)", "result"]  # fmt: skip
    print_table(headers, rows)


if __name__ == "__main__":
    main()
