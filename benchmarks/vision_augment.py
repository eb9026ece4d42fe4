"""Batch augmentation alone: layered's `aug_transforms` against torchvision.transforms.v2, in one run.

Both sides flip, rotate, zoom, warp the perspective and change brightness and contrast of a
float batch of images in [0, 1] (default 64×3×224×224), bilinearly:
- layered: `aug_transforms()` with the paper's defaults, every parameter drawn per sample, one
  resampling and one lighting operation for the whole batch;
- torchvision v2, per sample: RandomHorizontalFlip + RandomAffine(degrees=10, scale=(1, 1.1)) +
  RandomPerspective(0.2, p=0.75) + ColorJitter(brightness=0.2, contrast=0.2) applied to each
  image in a loop and stacked, which is how v2 gives each image its own parameters;
- torchvision v2, whole batch: the same Compose called once on the batch tensor. It is faster,
  but draws ONE set of parameters for the whole batch (every image gets the same augmentation),
  so it is not the same work; shown for reference.
Run: python benchmarks/vision_augment.py [--device cuda] [--threads N] [--repeats N] [--bs 64] [--size 224]
(`--threads` sets torch's CPU threads; on a machine shared with other work, 1 avoids the thread
oversubscription that slows small per-image operations far more than batched ones.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from _timing import fmt_time, print_table
from torchvision.transforms import InterpolationMode, v2

from layered.core.pipeline import Pipeline
from layered.core.seed import set_seed
from layered.vision.augment import aug_transforms
from layered.vision.types import TensorImage


def timed(f: Callable[[], object], device: torch.device) -> float:
    """Seconds for one call of `f`, waiting for the device to finish."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t = time.perf_counter()
    f()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    set_seed(0)
    x = TensorImage(torch.rand(args.bs, 3, args.size, args.size, device=device))
    ours = Pipeline(aug_transforms(), split_idx=0)
    tv = v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomAffine(degrees=10, scale=(1.0, 1.1), interpolation=InterpolationMode.BILINEAR),
            v2.RandomPerspective(distortion_scale=0.2, p=0.75, interpolation=InterpolationMode.BILINEAR),
            v2.ColorJitter(brightness=0.2, contrast=0.2),
        ]
    )
    plain = x.as_subclass(torch.Tensor)
    cases = {
        "layered aug_transforms (per-sample parameters)": lambda: ours(x),
        "torchvision v2, per sample (per-sample parameters)": lambda: torch.stack([tv(img) for img in plain]),
        "torchvision v2, whole batch (ONE draw for all images)": lambda: tv(plain),
    }
    for f in cases.values():  # warm-up: allocator, kernels, lazy initialisation
        f()
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(args.repeats):  # interleaved, alternating order, so drift hits every case alike
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(timed(cases[name], device))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    base = med[names[0]]
    rows = []
    for name in names:
        speedup = med[name] / base
        target = "≥2.00× (pass)" if speedup >= 2 else "≥2.00× (FAIL)"
        rows.append(
            [
                name,
                fmt_time(med[name]),
                f"{args.bs / med[name]:,.0f}",
                "1.00×" if name == names[0] else f"{speedup:.2f}×",
                target if name == names[1] else "—",
            ]
        )
    threads = torch.get_num_threads()
    print(
        f"batch {args.bs}×3×{args.size}×{args.size} float32 on {device} ({threads} CPU threads), "
        f"torch {torch.__version__}, median of {args.repeats}\n"
    )
    print_table(["case", "time per batch", "images/s", "its time / layered's", "target"], rows)


if __name__ == "__main__":
    main()
