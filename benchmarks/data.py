"""Data loading against plain torch.utils.data.DataLoader, measured side by side in one run.

(a) in-memory tensors, per-item path, both sides collating items;
(b) a list of raw items through a 2-transform item pipeline;
(c) layered's in-memory fast path (one slice per batch) vs its own per-item path.
Items/s are medians; each ratio is the median over back-to-back pairs of runs.
Run: python benchmarks/data.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _timing import print_table
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import Dataset, TensorDataset

from layered.core.transform import Transform
from layered.data.loader import DataLoader
from layered.data.tfmd_loader import TfmdDL

N, N_IN = 100_000, 16


class ListDataset(Dataset):
    """Torch's side of (b): raw items through the same two functions."""

    def __init__(self, items, fs):
        self.items, self.fs = items, fs

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        x = self.items[i]
        for f in self.fs:
            x = f(x)
        return x


def scale(x: torch.Tensor) -> torch.Tensor:
    return x * 2.0


def shift(x: torch.Tensor) -> torch.Tensor:
    return x + 1.0


def epoch(dl) -> int:
    n = 0
    for b in dl:
        n += len(b[0]) if isinstance(b, (tuple, list)) else len(b)
    return n


class PerItem:
    """A dataset that forbids the fast path: items only through __getitem__."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def median_time(f, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return sorted(ts)[repeats // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    x, y = torch.randn(N, N_IN), torch.randint(0, 10, (N,))
    items = list(x)
    rows = []

    def compare(label, ours, theirs, target, n_items):
        # the two sides run back to back, in alternating order, and the median of the per-pair
        # ratios is reported: this machine's speed drifts more between runs than the gap measured
        ratios, t_ours, t_theirs = [], [], []
        for i in range(args.repeats):
            pair = (ours, theirs) if i % 2 == 0 else (theirs, ours)
            times = {f: median_time(f, 1) for f in pair}
            t_ours.append(times[ours])
            t_theirs.append(times[theirs])
            ratios.append(times[ours] / times[theirs])
        a, b = statistics.median(t_ours), statistics.median(t_theirs)
        rows.append(
            [label, f"{n_items / a:,.0f}", f"{n_items / b:,.0f}", f"{statistics.median(ratios):.2f}×", target]
        )

    for bs in (64, 256):
        ds = PerItem(x, y)
        compare(
            f"(a) in-memory tensors, per item, bs={bs}",
            lambda ds=ds, bs=bs: epoch(DataLoader(ds, bs=bs, shuffle=True)),
            lambda bs=bs: epoch(TorchDataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True)),
            "≤1.10×",
            N,
        )
        tfms = [Transform(scale), Transform(shift)]
        compare(
            f"(b) list of items, 2-transform item pipeline, bs={bs}",
            lambda bs=bs, tfms=tfms: epoch(TfmdDL(items, bs=bs, shuffle=True, after_item=tfms)),
            lambda bs=bs: epoch(
                TorchDataLoader(ListDataset(items, [scale, shift]), batch_size=bs, shuffle=True)
            ),
            "≤1.10×",
            N,
        )
    fast = lambda: epoch(DataLoader((x, y), bs=1024, shuffle=True))
    slow = lambda: epoch(DataLoader(PerItem(x, y), bs=1024, shuffle=True))
    r = args.repeats
    a, b = median_time(fast, r), median_time(slow, r)
    rows.append(
        [
            "(c) layered fast path vs layered per-item, bs=1024",
            f"{N / a:,.0f}",
            f"{N / b:,.0f}",
            f"{b / a:.1f}× faster",
            "≥5× faster",
        ]
    )
    print(f"{N:,} items of {N_IN} floats, num_workers=0, torch {torch.__version__}, median of {r}\n")
    print_table(
        ["case", "layered items/s", "reference items/s", "time ratio (median of pairs)", "target"], rows
    )


if __name__ == "__main__":
    main()
