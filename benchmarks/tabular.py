"""layered-tabular against plain pandas and a hand-written PyTorch loop, on synthetic rows.

The data: `--rows` rows (default 1,000,000) of 6 categorical columns (cardinalities 10 to
10,000, 5 % missing), 6 continuous columns (5 % missing) and a binary target; 80 % training.

1. Processing: `TabularPandas` with `Categorify`, `FillMissing`, `Normalize` vs the same work
   written directly in pandas (training-row medians with `_na` columns, sorted training levels
   as codes with 0 for missing/unseen, training-row mean/std), interleaved; target ≤0.8× (issue
   19: categorical codes from pandas' vectorised factorisation, no Python loop over values).
2. One epoch (training then validation) of `tabular_learner` at bs=1024 vs a hand-written loop
   over the same pre-made tensors with the same model and initial weights, with plain
   `torch.optim.Adam` (target ≤1.15×) and with fused `torch.optim.AdamW` (the learner's
   defaults: betas 0.9/0.99, eps 1e-5, weight decay 0.01); and, with `--baseline REF`, the same
   learner epoch of revision REF of layered (e.g. `main`) run beside it in a worker process
   (benchmarks/_baseline.py), interleaved: target ≤0.75× of it.
3. Peak memory of the processing, each way, in a fresh process: the most memory NumPy and
   pandas held at once while processing (tracemalloc), beside the size of the frame itself.

Run: python benchmarks/tabular.py [--rows N] [--repeats R] [--threads T] [--skip-epochs] [--baseline REF]
(`--threads` defaults to 1: steadier ratios on a shared 2-core machine; raise it on a quiet one.)
"""

from __future__ import annotations

import argparse
import copy
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _baseline import baseline_worker, serve
from _timing import print_table, verdict
from torch import nn

from layered.core.seed import set_seed
from layered.data.normalize import Normalize
from layered.tabular.learner import tabular_learner
from layered.tabular.procs import Categorify, FillMissing
from layered.tabular.tabular_pandas import TabularPandas

CARDS = (10, 50, 200, 1_000, 5_000, 10_000)
CATS = [f"cat{i}" for i in range(len(CARDS))]
CONTS = [f"cont{i}" for i in range(6)]
BS = 1024


def make_frame(rows: int, seed: int = 0) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray]]:
    """The synthetic frame and its 80/20 split (row positions)."""
    rng = np.random.default_rng(seed)
    data: dict = {}
    signal = np.zeros(rows)
    for name, card in zip(CATS, CARDS):
        codes = rng.integers(0, card, rows)
        signal += np.where(codes % 3 == 0, 0.5, -0.25)
        labels = np.array([f"{name}_{i}" for i in range(card)], dtype=object)[codes]
        labels[rng.random(rows) < 0.05] = None
        data[name] = labels
    for i, name in enumerate(CONTS):
        x = rng.normal(i, 1 + i, rows)
        signal += 0.3 * (x - i) / (1 + i)
        x[rng.random(rows) < 0.05] = np.nan
        data[name] = x
    data["y"] = (signal + rng.normal(0, 1, rows) > 0).astype(np.int64)
    perm = rng.permutation(rows)
    cut = int(rows * 0.8)
    return pd.DataFrame(data), (np.sort(perm[:cut]), np.sort(perm[cut:]))


def layered_procs(df: pd.DataFrame, splits) -> TabularPandas:
    """The layered way."""
    return TabularPandas(
        df, [Categorify, FillMissing, Normalize], cat_names=CATS, cont_names=CONTS, y_names="y", splits=splits
    )


def plain_procs(df: pd.DataFrame, splits) -> pd.DataFrame:
    """The same processing written directly in pandas."""
    df = df.copy()
    train = df.iloc[splits[0]]
    cats = list(CATS)
    for col in CONTS:
        median = train[col].median()
        missing = df[col].isna()
        if train[col].isna().any():
            df[f"{col}_na"] = missing
            cats.append(f"{col}_na")
        df[col] = df[col].fillna(median)
    train = df.iloc[splits[0]]
    for col in cats:
        levels = pd.Index(sorted(train[col].dropna().unique().tolist()))
        df[col] = levels.get_indexer(df[col]) + 1
    train = df.iloc[splits[0]]
    for col in CONTS:
        mean, std = train[col].mean(), train[col].std(ddof=0)
        df[col] = ((df[col] - mean) / (std + 1e-7)).astype(np.float32)
    df["y"] = pd.Index(sorted(train["y"].unique().tolist())).get_indexer(df["y"])
    return df


def time_procs(df, splits, repeats: int) -> tuple[float, float]:
    times: dict[str, list[float]] = {"layered": [], "plain": []}
    cases = {"layered": layered_procs, "plain": plain_procs}
    for r in range(repeats):
        for name in cases if r % 2 == 0 else reversed(list(cases)):
            t = time.perf_counter()
            cases[name](df, splits)
            times[name].append(time.perf_counter() - t)
    return statistics.median(times["layered"]), statistics.median(times["plain"])


def hand_epoch(model: nn.Module, train: tuple, valid: tuple, fused: bool = False) -> None:
    """The limit: shuffle, slice, forward, loss, backward, step; then the validation loss.

    `fused=False`: plain `torch.optim.Adam`; `fused=True`: fused `AdamW` with the learner's defaults.
    """
    if fused:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-5, fused=True)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    cats, conts, ys = train
    model.train()
    perm = torch.randperm(len(ys))
    for i in range(0, len(ys) - BS + 1, BS):
        idx = perm[i : i + BS]
        loss = loss_fn(model(cats[idx], conts[idx]), ys[idx])
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    total = 0.0
    with torch.no_grad():
        vc, vx, vy = valid
        for i in range(0, len(vy), BS):
            total += loss_fn(model(vc[i : i + BS], vx[i : i + BS]), vy[i : i + BS]).item()


HAND = "hand-written loop, torch.optim.Adam"
LEARNER = "tabular_learner.fit(1), no progress bar"


def epoch_cases(to: TabularPandas) -> dict:
    """One epoch each way, every one from the same initial weights over the same rows."""
    set_seed(0)
    learn = tabular_learner(to.dataloaders(bs=BS, device="cpu"), layers=[200, 100])
    base = copy.deepcopy(learn.model)
    train, valid = to.train.tensors, to.valid.tensors

    def learner() -> None:
        learn.model.load_state_dict(base.state_dict())
        learn.opt = None
        with learn.no_logging():  # no progress bar either: its cost is the Learner's, measured in train.py
            learn.fit(1, 1e-3)

    return {
        HAND: lambda: hand_epoch(copy.deepcopy(base), train, valid),
        "hand-written loop, torch.optim.AdamW(fused=True)": lambda: hand_epoch(
            copy.deepcopy(base), train, valid, fused=True
        ),
        LEARNER: learner,
    }


def time_epochs(df: pd.DataFrame, splits, repeats: int, baseline=None) -> dict[str, float]:
    """Median seconds of each epoch case; `baseline` (a BaselineWorker) adds the other revision's learner."""
    # an untimed warm-up over the first rows fills the allocator and the caches of every path
    n = min(len(df), 20_000)
    small = layered_procs(df.iloc[:n], [s[s < n] for s in splits])
    for run in epoch_cases(small).values():
        run()
    cases = epoch_cases(layered_procs(df, splits))
    if baseline is not None:
        cases[f"{LEARNER}, layered {baseline.commit}"] = baseline.run  # timed in the worker
    times: dict[str, list[float]] = {k: [] for k in cases}
    names = list(cases)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            t = time.perf_counter()
            seconds = cases[name]()
            times[name].append(seconds if seconds is not None else time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def high_water_mib() -> float:
    """This process's peak resident memory so far (VmHWM, which unlike ru_maxrss starts afresh at exec)."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def processing_peak(rows: int, way: str) -> float:
    """Peak memory (MiB) NumPy and pandas held while processing the frame `way`, in a fresh process."""
    code = (
        "import sys, tracemalloc; sys.path.insert(0, 'benchmarks'); import tabular as b; "
        f"df, s = b.make_frame({rows}); tracemalloc.start(); b.{way}_procs(df, s); "
        "print(tracemalloc.get_traced_memory()[1] / 2**20)"
    )
    here = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=here)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-epochs", action="store_true", help="only the processing and memory figures")
    parser.add_argument("--baseline", default=None, help="a git revision whose learner epoch runs beside")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    df, splits = make_frame(args.rows)
    if args.worker:  # the baseline revision's side of --baseline
        serve(epoch_cases(layered_procs(df, splits))[LEARNER])
        return
    baseline = None
    if args.baseline and not args.skip_epochs:
        worker_args = ["--worker", "--rows", str(args.rows), "--threads", str(args.threads)]
        baseline = baseline_worker(args.baseline, __file__, worker_args)
    print(
        f"{args.rows:,} rows, 6 categorical (cardinalities {CARDS}) + 6 continuous columns, 5 % missing; "
        f"torch {torch.__version__}, pandas {pd.__version__}, {torch.get_num_threads()} torch threads, "
        f"median of {args.repeats} interleaved repeats\n"
    )
    ours, plain = time_procs(df, splits, args.repeats)
    rows = [["TabularPandas(Categorify, FillMissing, Normalize) vs plain pandas", f"{ours:.2f} s",
             f"{plain:.2f} s", f"{ours / plain:.2f}×", "≤0.80×", verdict(ours / plain, 0.8)]]  # fmt: skip
    try:
        epochs = {} if args.skip_epochs else time_epochs(df, splits, args.repeats, baseline)
    finally:
        if baseline is not None:
            baseline.close()
    for name, t in epochs.items():
        if name != HAND:
            hand = epochs[HAND]
            target = "≤1.15×" if name == LEARNER else "—"
            result = verdict(t / hand, 1.15) if name == LEARNER else "—"
            rows.append([f"one epoch at bs={BS}: {name}", f"{t:.2f} s", f"{hand:.2f} s", f"{t / hand:.2f}×",
                         target, result])  # fmt: skip
    if baseline is not None:
        old = epochs[f"{LEARNER}, layered {baseline.commit}"]
        ratio = epochs[LEARNER] / old
        rows.append([f"one epoch at bs={BS}: this tree's learner vs layered {baseline.commit}'s",
                     f"{epochs[LEARNER]:.2f} s", f"{old:.2f} s", f"{ratio:.2f}×", "≤0.75×",
                     verdict(ratio, 0.75)])  # fmt: skip
    print_table(["case", "layered", "limit", "ratio", "target", "result"], rows)
    mem = {way: processing_peak(args.rows, way) for way in ("layered", "plain")}
    frame = df.memory_usage(deep=True).sum() / 2**20
    print(
        f"\nPeak memory while processing (tracemalloc; the frame itself is {frame:.0f} MiB): "
        f"layered {mem['layered']:.0f} MiB, plain pandas {mem['plain']:.0f} MiB ({mem['layered'] / mem['plain']:.2f}×)"
    )
    print(f"This process: peak RSS {high_water_mib():.0f} MiB")


if __name__ == "__main__":
    main()
