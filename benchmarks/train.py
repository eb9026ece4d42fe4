"""Learner overhead: one epoch of an MLP on 50k in-memory rows, bs=128, vs a hand-written loop.

Every variant trains the same model from the same initial weights on the same tensors, in one
process, interleaved and repeated; the table reports medians and ratios to the hand-written loop.
Also reports the time of `import layered.train` in a fresh interpreter.
Run: python benchmarks/train.py [--repeats N]
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import time

import torch
from _timing import print_table
from torch import nn

from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.train.learner import Learner
from layered.train.loss import CrossEntropyLossFlat
from layered.train.optim_wrapper import OptimWrapper
from layered.train.optimizers import Adam

N, N_IN, BS = 50_000, 32, 128


def make_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, N_IN, generator=g)
    y = (x[:, :4].sum(1) > 0).long()
    return x, y


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(N_IN, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2))


def hand_loop(model, x, y, opt_cls):
    """The limit: shuffle, slice, forward, loss, backward, step — nothing else."""
    opt = opt_cls(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    perm = torch.randperm(N)
    for i in range(0, N - BS + 1, BS):
        idx = perm[i : i + BS]
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        opt.zero_grad()


def learner_fit(model, x, y, opt_func, progress: bool):
    train = DataLoader((x, y), bs=BS, shuffle=True, drop_last=True)
    valid = DataLoader((x[:0], y[:0]), bs=BS)
    learn = Learner(
        DataLoaders(train, valid, device="cpu"),
        model,
        loss_func=CrossEntropyLossFlat(),
        opt_func=opt_func,
        lr=1e-3,
        wd=0.0,
    )
    learn.logger = lambda *a, **k: None
    if not progress:
        learn.remove_cbs(learn.progress)
    learn.fit(1)


def torch_adam(params, lr, **kwargs):
    return OptimWrapper(torch.optim.Adam([{"params": p} for p in params], lr=lr))


def import_time() -> float:
    code = (
        "import time; t = time.perf_counter(); import layered.train.learner; print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return sorted(runs)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x, y = make_data()
    base = make_model()
    variants = {
        "hand-written loop, torch.optim.Adam": lambda m: hand_loop(m, x, y, torch.optim.Adam),
        "Learner.fit, torch Adam (OptimWrapper), no progress": lambda m: learner_fit(
            m, x, y, torch_adam, False
        ),
        "Learner.fit, torch Adam (OptimWrapper), progress bar": lambda m: learner_fit(
            m, x, y, torch_adam, True
        ),
        "Learner.fit, layered Adam, no progress": lambda m: learner_fit(m, x, y, Adam, False),
    }
    times = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, run in variants.items():
            model = copy.deepcopy(base)
            t = time.perf_counter()
            run(model)
            times[name].append(time.perf_counter() - t)
    limit = sorted(times["hand-written loop, torch.optim.Adam"])[args.repeats // 2]
    rows = []
    for name, ts in times.items():
        med = sorted(ts)[args.repeats // 2]
        target = "1.00" if name.startswith("hand") else "≤1.05" if "OptimWrapper" in name else "—"
        rows.append([name, f"{med:.3f} s", f"{med / limit:.2f}×", target])
    print(
        f"One epoch, {N:,} rows × {N_IN} features, bs={BS}, MLP 32-256-256-2, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats}\n"
    )
    print_table(["variant", "time", "ratio to hand loop", "target"], rows)
    print(
        f"\n`import layered.train.learner` in a fresh interpreter: {import_time() * 1000:.0f} ms (median of 3)"
    )


if __name__ == "__main__":
    main()
