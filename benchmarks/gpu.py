"""The accelerator figures of issues 19 and 20, in one run on one device.

1. Batch augmentation: `aug_transforms()` on a 64×3×224×224 batch on the CPU (all of torch's
   threads) and on the device; target: the device ≥5× faster.
2. The image pipeline: one epoch of `ImageDataLoaders.from_folder` (2 workers decode and resize
   JPEGs; `aug_transforms` per batch) with the batches placed on the CPU and on the device, so
   the batch transforms run there (`benchmarks/vision.py`'s loader and files).
3. A conv net's training epoch (torchvision's resnet18, 10 classes, in-memory images): a
   hand-written loop against `Learner.fit`, in fp32 and with mixed precision (the hand loop with
   `torch.autocast` and a `GradScaler`, the Learner with `MixedPrecision`), then the Learner
   with `MixedPrecision` and `ChannelsLast`; targets: the Learner ≤1.05× its hand loop.
4. One optimizer step over resnet50's parameters: layered's `Adam` (fused kernel), its
   `torch._foreach_*` path, and `torch.optim.Adam(fused=True)`.

Every case is timed in turn with the others of its section (order alternating), waiting for
the device before and after; medians are reported. It runs on any device, so `--device cpu
--quick` checks the script itself where there is no accelerator.
Run: python benchmarks/gpu.py [--device cuda] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torchvision
from _timing import fmt_time, print_table
from torch import nn
from vision import layered_loader, write_jpegs

from layered.core.pipeline import Pipeline
from layered.core.seed import set_seed
from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.train.callbacks.channels_last import ChannelsLast
from layered.train.callbacks.mixed_precision import MixedPrecision
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.optim.algorithms import Adam
from layered.vision.augment import aug_transforms
from layered.vision.types import TensorImage


def synced(device: torch.device) -> None:
    """Wait for the work queued on `device` (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def medians(cases: dict[str, Callable[[], object]], device: torch.device, repeats: int) -> dict[str, float]:
    """Median seconds per call of each case, after one warm-up call each; cases timed in turn."""
    for f in cases.values():
        f()
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            synced(device)
            start = time.perf_counter()
            cases[name]()
            synced(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def _places(device: torch.device) -> list[tuple[str, torch.device]]:
    """The two places compared: the CPU and `device`, labelled."""
    return [("on the CPU", torch.device("cpu")), (f"on the device ({device})", device)]


def augmentation(device: torch.device, bs: int, size: int, repeats: int) -> list[list[str]]:
    """`aug_transforms` on one batch, on the CPU and on `device`."""
    tfm = Pipeline(aug_transforms(), split_idx=0)
    batches = {where: TensorImage(torch.rand(bs, 3, size, size, device=d)) for where, d in _places(device)}
    cases = {f"aug_transforms, {bs}×3×{size}×{size}, {w}": (lambda x=x: tfm(x)) for w, x in batches.items()}
    (on_cpu, cpu), (on_device, dev) = medians(cases, device, repeats).items()
    verdict = "pass" if cpu / dev >= 5 else "FAIL"
    return [
        [on_cpu, fmt_time(cpu), "1.0×", "—"],
        [on_device, fmt_time(dev), f"{cpu / dev:.1f}×", f"≥5× ({verdict})"],
    ]


def image_pipeline(device: torch.device, n: int, repeats: int) -> list[list[str]]:
    """One epoch of the image loader with 2 workers, its batch transforms on the CPU and on `device`."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_jpegs(root, n, 160)
        loaders = {w: layered_loader(root, 128, 64, 2, device=str(d)) for w, d in _places(device)}
        cases = {f"2 workers, batch tfms {w}": (lambda dl=dl: list(dl)) for w, dl in loaders.items()}
        times = medians(cases, device, repeats)
    cpu = times[next(iter(times))]
    return [[name, fmt_time(t), f"{n / t:,.0f} img/s", f"{cpu / t:.2f}×"] for name, t in times.items()]


def resnet(device: torch.device) -> nn.Module:
    """A seeded resnet18 for 10 classes on `device`."""
    torch.manual_seed(0)
    return torchvision.models.resnet18(num_classes=10).to(device)


def hand_epoch(data, device: torch.device, bs: int, amp: bool) -> Callable[[], None]:
    """The limit: one shuffled epoch of a hand-written loop (Adam), optionally under autocast + GradScaler."""
    x, y = data
    model = resnet(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    loss_fn = nn.CrossEntropyLoss()

    def run() -> None:
        model.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x) - bs + 1, bs):
            idx = perm[i : i + bs]
            xb, yb = x[idx].to(device, non_blocking=True), y[idx].to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                loss = loss_fn(model(xb), yb)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            opt.zero_grad()

    return run


def learner_epoch(data, device: torch.device, bs: int, cbs: list) -> Callable[[], None]:
    """One epoch of `Learner.fit` (no validation set worth timing: one batch) with `cbs`."""
    x, y = data
    dls = DataLoaders(
        DataLoader((x, y), bs=bs, shuffle=True, drop_last=True),
        DataLoader((x[:bs], y[:bs]), bs=bs),
        device=device,
    )
    learn = Learner(
        dls, resnet(device), loss_func=CrossEntropyLossFlat(), lr=1e-3, wd=0.0, path=tempfile.mkdtemp()
    )
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    learn.add_cbs(cbs)
    return lambda: learn.fit(1)


def training_loop(device: torch.device, n: int, size: int, bs: int, repeats: int) -> list[list[str]]:
    """resnet18 epochs: the hand loop against the Learner, fp32, mixed precision, channels-last."""
    g = torch.Generator().manual_seed(0)
    data = (torch.rand(n, 3, size, size, generator=g), torch.randint(0, 10, (n,), generator=g))
    cases = {
        "hand loop, fp32": hand_epoch(data, device, bs, amp=False),
        "Learner, fp32": learner_epoch(data, device, bs, []),
        "hand loop, autocast fp16 + GradScaler": hand_epoch(data, device, bs, amp=True),
        "Learner, MixedPrecision": learner_epoch(data, device, bs, [MixedPrecision()]),
        "Learner, MixedPrecision + ChannelsLast": learner_epoch(
            data, device, bs, [MixedPrecision(), ChannelsLast()]
        ),
    }
    times = medians(cases, device, repeats)
    base = times["hand loop, fp32"]
    limits = {
        "Learner, fp32": "hand loop, fp32",
        "Learner, MixedPrecision": "hand loop, autocast fp16 + GradScaler",
    }
    rows = []
    for name, t in times.items():
        own = (
            f"{t / times[limits[name]]:.2f}× ({'pass' if t <= 1.05 * times[limits[name]] else 'FAIL'})"
            if name in limits
            else "—"
        )
        rows.append([name, fmt_time(t), f"{n / t:,.0f} img/s", f"{base / t:.2f}×", own])
    return rows


def optimizer_step(device: torch.device, repeats: int) -> list[list[str]]:
    """One Adam step over resnet50's parameters (gradients set once): fused, foreach, torch's fused."""
    params = {}
    for name in ("layered fused", "layered foreach", "torch fused"):
        torch.manual_seed(0)
        ps = [p.detach().requires_grad_() for p in torchvision.models.resnet50().to(device).parameters()]
        for p in ps:
            p.grad = torch.randn_like(p)
        params[name] = ps
    fused_ok = device.type in ("cpu", "cuda")
    foreach = Adam(params["layered foreach"], lr=1e-3)
    foreach.fused = None  # the group path without the fused kernel: one torch._foreach_* call per stat
    opts = {
        "layered fused": Adam(params["layered fused"], lr=1e-3),
        "layered foreach": foreach,
        "torch fused": torch.optim.Adam(params["torch fused"], lr=1e-3, fused=fused_ok),
    }
    times = medians({name: opt.step for name, opt in opts.items()}, device, repeats)
    base = times["torch fused"]
    return [[name, fmt_time(t), f"{t / base:.2f}×"] for name, t in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the script, measures nothing"
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu.py: no CUDA device here; run with --device cpu --quick to check the script")
    set_seed(0)
    quick = args.quick
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, median of {args.repeats}\n")
    print_table(
        ["augmentation", "time per batch", "CPU time / this", "target"],
        augmentation(device, 8 if quick else 64, 64 if quick else 224, args.repeats),
    )
    print()
    n_images = 64 if quick else 512
    print_table(
        [f"image epoch ({n_images} JPEGs → 64×3×128×128)", "time", "images/s", "vs CPU"],
        image_pipeline(device, n_images, args.repeats),
    )
    print()
    print_table(
        ["resnet18 epoch", "time", "images/s", "hand fp32 / this", "vs its hand loop (≤1.05×)"],
        training_loop(device, 64 if quick else 4096, 32 if quick else 96, 32 if quick else 128, args.repeats),
    )
    print()
    print_table(
        ["Adam step, resnet50 parameters", "time", "vs torch fused"], optimizer_step(device, args.repeats)
    )


if __name__ == "__main__":
    main()
