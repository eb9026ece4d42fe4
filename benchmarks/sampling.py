"""Sampling loaders against hand-written torch code, measured side by side in one run.

(a) WeightedDL on the in-memory fast path vs the limit: `torch.multinomial` for the epoch's
    indices, then one indexing operation per column and batch;
(b) the same WeightedDL vs torch's own way, `WeightedRandomSampler` with a `TensorDataset`
    (items collated one by one);
(c) PartialDL (a tenth of the data per epoch) vs the limit: `torch.randperm(n)[:k]`, then indexing.
Items/s are medians; each ratio is the median over back-to-back pairs of runs. Both sides run
with one torch thread (`--threads`): on a shared machine, a second thread makes every small
indexing operation wait for a busy core, which measures the load rather than the code.
Run: python benchmarks/sampling.py [--repeats N] [--threads T]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _timing import print_table
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset, WeightedRandomSampler

from layered.data.sampling import PartialDL, WeightedDL

N, N_IN, BS = 100_000, 16, 256


def epoch(batches) -> int:
    """Items in one pass over `batches`."""
    return sum(len(b[0]) for b in batches)


def sliced(x: torch.Tensor, y: torch.Tensor, order: torch.Tensor):
    """The limit's batches: one indexing operation per column and batch."""
    for start in range(0, len(order), BS):
        rows = order[start : start + BS]
        yield x[rows], y[rows]


def once(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = torch.randn(N, N_IN), torch.randint(0, 10, (N,))
    w = torch.rand(N, dtype=torch.float64) + 0.1
    rows = []

    def compare(label, ours, theirs, n_items, target):
        ratios, t_ours, t_theirs = [], [], []
        for i in range(args.repeats):
            pair = (ours, theirs) if i % 2 == 0 else (theirs, ours)
            times = {f: once(f) for f in pair}
            t_ours.append(times[ours])
            t_theirs.append(times[theirs])
            ratios.append(times[ours] / times[theirs])
        a, b = statistics.median(t_ours), statistics.median(t_theirs)
        rows.append(
            [label, f"{n_items / a:,.0f}", f"{n_items / b:,.0f}", f"{statistics.median(ratios):.2f}×", target]
        )

    weighted = WeightedDL((x, y), wgts=w, bs=BS, shuffle=True)
    assert weighted.fast_path
    compare(
        f"(a) WeightedDL vs multinomial + indexing, bs={BS}",
        lambda: epoch(weighted),
        lambda: epoch(sliced(x, y, torch.multinomial(w, N, replacement=True))),
        N,
        "≤1.20×",
    )
    torch_weighted = TorchDataLoader(
        TensorDataset(x, y), batch_size=BS, sampler=WeightedRandomSampler(w, N, replacement=True)
    )
    compare(
        f"(b) WeightedDL vs torch WeightedRandomSampler, bs={BS}",
        lambda: epoch(weighted),
        lambda: epoch(torch_weighted),
        N,
        "faster (<1×)",
    )
    k = N // 10
    partial = PartialDL((x, y), partial_n=k, bs=BS, shuffle=True)
    compare(
        f"(c) PartialDL (n/10) vs randperm[:k] + indexing, bs={BS}",
        lambda: epoch(partial),
        lambda: epoch(sliced(x, y, torch.randperm(N)[:k])),
        k,
        "≤1.20×",
    )
    print(
        f"{N:,} items of {N_IN} floats, num_workers=0, {args.threads} torch thread(s), torch {torch.__version__}, median of {args.repeats}\n"
    )
    print_table(
        ["case", "layered items/s", "reference items/s", "time ratio (median of pairs)", "target"], rows
    )


if __name__ == "__main__":
    main()
