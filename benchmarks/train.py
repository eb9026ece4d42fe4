"""Learner overhead: one epoch of an MLP on 50k in-memory rows (plus 10k validation rows), bs=128.

The limit is a hand-written loop: shuffle, slice, forward, loss, backward, step, then a validation
pass. Every variant trains the same model from the same initial weights on the same tensors, in
one process, interleaved and repeated (the order alternating); the table reports the fastest repeat
and the median over rounds of each round's ratio to the hand-written loop using the same optimizer,
so the optimizer's own speed cancels out.
Also reports the time of `import layered.train` in a fresh interpreter.
Run: python benchmarks/train.py [--repeats N]
"""

from __future__ import annotations

import argparse
import copy
import gc
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from _timing import print_table
from torch import nn

from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.train.callbacks.csv_logger import CSVLogger
from layered.train.callbacks.gradient import GradientAccumulation
from layered.train.callbacks.tracker import EarlyStoppingCallback, SaveModelCallback
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.optim.algorithms import Adam
from layered.train.optim.torch_optimizer import OptimWrapper

N, N_VALID, N_IN, BS = 50_000, 10_000, 32, 128


def make_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N + N_VALID, N_IN, generator=g)
    y = (x[:, :4].sum(1) > 0).long()
    return (x[:N], y[:N]), (x[N:], y[N:])


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(N_IN, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2))


def torch_adam(params, lr, **kwargs):
    """torch.optim.Adam behind the library's optimizer interface."""
    return OptimWrapper(torch.optim.Adam([{"params": p} for p in params], lr=lr))


def layered_adam(params, lr, **kwargs):
    return Adam(params, lr=lr, wd=0.0)


def hand_validate(model, valid, loss_fn) -> float:
    """The hand-written validation pass: the mean loss over the validation rows."""
    (xv, yv), total = valid, 0.0
    model.eval()
    with torch.no_grad():
        for i in range(0, N_VALID, BS):
            total += loss_fn(model(xv[i : i + BS]), yv[i : i + BS]).item() * len(xv[i : i + BS])
    return total / N_VALID


def hand_loop(model, train, valid, opt_func):
    """The limit: what a careful PyTorch user writes, nothing else."""
    x, y = train
    opt = opt_func(list(model.parameters()), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    perm = torch.randperm(N)
    for i in range(0, N - BS + 1, BS):
        idx = perm[i : i + BS]
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        opt.zero_grad()
    return hand_validate(model, valid, loss_fn)


def hand_loop_accumulating(model, train, valid, opt_func, bs: int = BS // 2, n_acc: int = BS):
    """The hand-written loop with gradient accumulation: batches of `bs`, a step every `n_acc` items."""
    x, y = train
    opt = opt_func(list(model.parameters()), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    perm, seen = torch.randperm(N), 0
    for i in range(0, N - bs + 1, bs):
        idx = perm[i : i + bs]
        (loss_fn(model(x[idx]), y[idx]) * (bs / n_acc)).backward()
        seen += bs
        if seen >= n_acc:
            opt.step()
            opt.zero_grad()
            seen = 0
    return hand_validate(model, valid, loss_fn)


def learner_fit(model, train, valid, opt_func, progress: bool = False, cbs=(), bs: int = BS):
    dls = DataLoaders(
        DataLoader(train, bs=bs, shuffle=True, drop_last=True), DataLoader(valid, bs=BS), device="cpu"
    )
    with tempfile.TemporaryDirectory() as path:
        learn = Learner(
            dls, model, loss_func=CrossEntropyLossFlat(), opt_func=opt_func, lr=1e-3, wd=0.0, path=path
        )
        learn.logger = lambda *a, **k: None
        if not progress:
            learn.remove_cbs(learn.progress)
        learn.fit(1, cbs=list(cbs))


def part2_cbs():
    """The training toolkit's usual trio: keep the best model, stop early, log to CSV."""
    return [SaveModelCallback(), EarlyStoppingCallback(patience=3), CSVLogger()]


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import layered.train.all; print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return sorted(runs)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    train, valid = make_data()
    base = make_model()
    # name: (run, the hand loop it is compared with, target)
    variants = {
        "hand-written loop, torch.optim.Adam": (
            lambda m: hand_loop(m, train, valid, torch.optim.Adam),
            None,
            None,
        ),
        "hand-written loop, layered Adam": (lambda m: hand_loop(m, train, valid, layered_adam), None, None),
        "Learner.fit, torch Adam (OptimWrapper), no progress": (
            lambda m: learner_fit(m, train, valid, torch_adam),
            "hand-written loop, torch.optim.Adam",
            1.05,
        ),
        "Learner.fit, torch Adam (OptimWrapper), progress bar": (
            lambda m: learner_fit(m, train, valid, torch_adam, progress=True),
            "hand-written loop, torch.optim.Adam",
            1.05,
        ),
        "Learner.fit, layered Adam, no progress": (
            lambda m: learner_fit(m, train, valid, layered_adam),
            "hand-written loop, layered Adam",
            1.05,
        ),
        "Learner.fit, layered Adam, progress + SaveModel + EarlyStopping + CSVLogger": (
            lambda m: learner_fit(m, train, valid, layered_adam, progress=True, cbs=part2_cbs()),
            "hand-written loop, layered Adam",
            1.10,
        ),
        "hand-written loop, layered Adam, bs=64 accumulating to 128": (
            lambda m: hand_loop_accumulating(m, train, valid, layered_adam),
            None,
            None,
        ),
        "Learner.fit, layered Adam, bs=64 + GradientAccumulation(128)": (
            lambda m: learner_fit(m, train, valid, layered_adam, cbs=[GradientAccumulation(BS)], bs=BS // 2),
            "hand-written loop, layered Adam, bs=64 accumulating to 128",
            None,
        ),
    }
    times = {k: [] for k in variants}
    names = list(variants)
    for r in range(args.repeats + 1):  # the first round warms up and is not counted
        for name in names if r % 2 == 0 else reversed(names):
            model = copy.deepcopy(base)
            gc.collect()  # a finished Learner is a cycle (learner <-> callbacks): free it before timing
            t = time.perf_counter()
            variants[name][0](model)
            if r:
                times[name].append(time.perf_counter() - t)
    # This machine's speed drifts by tens of percent over seconds, more than the gap measured.
    # Interference only ever adds time, so the fastest repeat is the least disturbed one; and
    # each round runs every variant within seconds, so the ratio of a variant to its limit in
    # the same round cancels the drift: the median of those paired ratios is the main figure.
    best = {k: min(v) for k, v in times.items()}
    rows = []
    for name, (_, limit_name, target) in variants.items():
        ref = name if limit_name is None else limit_name
        paired = statistics.median(a / b for a, b in zip(times[name], times[ref]))
        rows.append(
            [
                name,
                f"{best[name]:.3f} s",
                f"{best[name] / best[ref]:.2f}×",
                f"{paired:.3f}×",
                "limit" if limit_name is None else f"≤{target:.2f}×" if target else "—",
            ]
        )
    print(
        f"One epoch, {N:,} rows × {N_IN} features + {N_VALID:,} validation rows, bs={BS}, MLP 32-256-256-2, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.repeats} interleaved repeats\n"
    )
    print_table(["variant", "fastest", "ratio of fastest", "median paired ratio", "target"], rows)
    print(f"\n`import layered.train.all` in a fresh interpreter: {import_time() * 1000:.0f} ms (median of 3)")


if __name__ == "__main__":
    main()
