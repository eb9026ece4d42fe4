"""layered-collab against a hand-written PyTorch loop, on synthetic ratings.

The data: `--rows` ratings (default 1,000,000) of 5,000 items by 10,000 users, drawn by
`synthetic_ratings` from a rank-8 model; `CollabDataLoaders.from_df` holds 20 % out.

One epoch (training then validation) at bs=1024 of `collab_learner` — the dot model
(`EmbeddingDotBias`, 50 factors) and the network (`EmbeddingNN`, default sizes) — against a
hand-written loop over the same tensors (the loaders' own, already made) with a copy of the
same model and initial weights, and `torch.optim.AdamW` with the learner's defaults
(betas 0.9/0.99, eps 1e-5, weight decay 0.01): shuffle, slice, forward, MSE, backward, step;
then the validation loss. Target ≤1.15×. The fused AdamW row is for information. With
`--baseline REF`, the same learner epoch of revision REF of layered (e.g. `main`) runs beside it
in a worker process (benchmarks/_baseline.py), interleaved: target ≤0.75× of it.

Building the loaders: `CollabDataLoaders.from_df` (random 20 % held out, user and item codes
from the training rows with 0 for unseen ids, the tensors of each split) against the same work
written by hand (`torch.randperm`, `np.unique` and `pd.Index.get_indexer`, tensors); target ≤0.3 s, in CPU
seconds of this process (`time.process_time`: other jobs on the machine do not count).

Run: python benchmarks/collab.py [--rows N] [--repeats R] [--threads T] [--skip-epochs] [--baseline REF]
(`--threads` defaults to 1: steadier ratios on a shared 2-core machine; raise it on a quiet one.)
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from _baseline import baseline_worker, serve
from _timing import fmt_time, interleaved, print_table, verdict
from torch import nn

from layered.collab.dataloaders import CollabDataLoaders
from layered.collab.learner import collab_learner
from layered.collab.synthetic import synthetic_ratings
from layered.core.seed import set_seed
from layered.train.learner import Learner

BS = 1024
LR = 5e-3
HAND = "hand-written loop, torch.optim.AdamW"
FUSED = "hand-written loop, torch.optim.AdamW(fused=True)"
LEARNER = "collab_learner.fit(1)"


def hand_epoch(model: nn.Module, train: tuple, valid: tuple, fused: bool = False) -> None:
    """The limit: shuffle, slice, forward, loss, backward, step; then the validation loss."""
    opt = torch.optim.AdamW(
        model.parameters(), lr=LR, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01, fused=fused or None
    )
    loss_fn = nn.MSELoss()
    x, y = train
    model.train()
    perm = torch.randperm(len(y))
    for i in range(0, len(y) - BS + 1, BS):
        idx = perm[i : i + BS]
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    total = 0.0
    with torch.no_grad():
        vx, vy = valid
        for i in range(0, len(vy), BS):
            total += loss_fn(model(vx[i : i + BS]), vy[i : i + BS]).item()


def hand_loaders(ratings: pd.DataFrame, valid_pct: float = 0.2, seed: int = 0) -> tuple:
    """The limit for `from_df`: a random split, codes from the training rows (0: unseen), each split's tensors."""
    perm = torch.randperm(len(ratings), generator=torch.Generator().manual_seed(seed)).numpy()
    cut = int(valid_pct * len(ratings))
    valid, train = perm[:cut], perm[cut:]
    codes = []
    for col in ratings.columns[:2]:
        values = ratings[col].to_numpy()
        codes.append(pd.Index(np.unique(values[train])).get_indexer(values) + 1)  # 0: unseen in training
    x = torch.from_numpy(np.stack(codes, 1))
    y = torch.from_numpy(ratings.iloc[:, 2].to_numpy(np.float32, copy=True)).unsqueeze(1)
    return (x[train], y[train]), (x[valid], y[valid])


def time_from_df(ratings: pd.DataFrame, repeats: int) -> list:
    """The table row for building the loaders, each way."""
    cases = {
        "layered": lambda: CollabDataLoaders.from_df(ratings, valid_pct=0.2, seed=0, bs=BS, device="cpu"),
        "hand": lambda: hand_loaders(ratings),
    }
    t = interleaved(cases, number=1, repeats=repeats, timer=time.process_time)
    ours, hand = t["layered"], t["hand"]
    return [f"CollabDataLoaders.from_df, {len(ratings):,} ratings (tensors included; CPU time)", fmt_time(ours),
            fmt_time(hand), f"{ours / hand:.2f}×", "≤0.3 s", verdict(ours, 0.3)]  # fmt: skip


def epoch_cases(dls: CollabDataLoaders, use_nn: bool) -> dict[str, Callable[[], None]]:
    """One epoch each way, every one from the same initial weights over the same rows."""
    set_seed(0)
    learn = collab_learner(dls, use_nn=use_nn)
    base = copy.deepcopy(learn.model)
    train, valid = dls.train_ds.tensors, dls.valid_ds.tensors

    def learner(learn: Learner = learn) -> None:
        learn.model.load_state_dict(base.state_dict())
        learn.opt = None
        with learn.no_logging():
            learn.fit(1, LR)

    return {
        HAND: lambda: hand_epoch(copy.deepcopy(base), train, valid),
        FUSED: lambda: hand_epoch(copy.deepcopy(base), train, valid, fused=True),
        LEARNER: learner,
    }


def time_epochs(
    dls: CollabDataLoaders, small: CollabDataLoaders, use_nn: bool, repeats: int, baseline=None
) -> dict:
    """Median seconds of each epoch case; `baseline` (a BaselineWorker) adds the other revision's learner."""
    # an untimed warm-up on a small table fills the allocator and the caches of every path
    for run in epoch_cases(small, use_nn).values():
        run()
    cases = epoch_cases(dls, use_nn)
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


MODELS = (("EmbeddingDotBias (50 factors)", False), ("EmbeddingNN [200, 100]", True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-epochs", action="store_true", help="only the loader-building figure")
    parser.add_argument("--baseline", default=None, help="a git revision whose learner epoch runs beside")
    parser.add_argument("--worker", choices=["dot", "nn"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ratings = synthetic_ratings(10_000, 5_000, args.rows, n_factors=8, seed=0).ratings
    dls = CollabDataLoaders.from_df(ratings, valid_pct=0.2, seed=0, bs=BS, device="cpu")
    if args.worker:  # the baseline revision's side of --baseline
        serve(epoch_cases(dls, use_nn=args.worker == "nn")[LEARNER])
        return
    small = CollabDataLoaders.from_df(ratings.iloc[:20_000], valid_pct=0.2, seed=0, bs=BS, device="cpu")
    print(
        f"{args.rows:,} ratings, 10,000 users x 5,000 items, 80/20 split; torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads, median of {args.repeats} interleaved repeats\n"
    )
    rows = [time_from_df(ratings, args.repeats)]
    for label, use_nn in () if args.skip_epochs else MODELS:
        baseline = None
        if args.baseline:
            worker_args = ["--rows", str(args.rows), "--threads", str(args.threads)]
            baseline = baseline_worker(
                args.baseline, __file__, [*worker_args, "--worker", "nn" if use_nn else "dot"]
            )
        try:
            epochs = time_epochs(dls, small, use_nn, args.repeats, baseline)
        finally:
            if baseline is not None:
                baseline.close()
        hand = epochs[HAND]
        for name, t in epochs.items():
            if name == HAND:
                continue
            ours = name == LEARNER
            rows.append([f"one epoch at bs={BS}, {label}: {name}", f"{t:.2f} s", f"{hand:.2f} s",
                         f"{t / hand:.2f}×", "≤1.15×" if ours else "—",
                         verdict(t / hand, 1.15) if ours else "—"])  # fmt: skip
        if baseline is not None:
            old = epochs[f"{LEARNER}, layered {baseline.commit}"]
            ratio = epochs[LEARNER] / old
            rows.append([f"one epoch at bs={BS}, {label}: this tree's learner vs layered {baseline.commit}'s",
                         f"{epochs[LEARNER]:.2f} s", f"{old:.2f} s", f"{ratio:.2f}×", "≤0.75×",
                         verdict(ratio, 0.75)])  # fmt: skip
    print_table(["case", "layered", "limit", "ratio", "target", "result"], rows)


if __name__ == "__main__":
    main()
