"""A training epoch's image pipeline: layered against torchvision's ImageFolder + transforms.v2, in one run.

Both sides read the same generated JPEG files from class folders, shuffle, and hand out batches
of float32 tensors in [0, 1], with `num_workers` 0 and 2:
- layered: `ImageDataLoaders.from_folder(item_tfms=Resize(size), batch_tfms=aug_transforms())`:
  per item, in the workers, decode and resize (PIL); per batch, one resampling for flip +
  perspective warp + rotation + zoom (each drawn per image) and one pass for brightness +
  contrast, run in the main process after placement (the default, meant for an accelerator;
  here the device is the CPU, so beside 2 workers they get the torch threads the workers leave
  free) or, with `after_batch_in_workers=True`, in the workers (layered's opt-in for training on
  the CPU; rows "layered, batch tfms in workers");
- torchvision: `ImageFolder` with `v2.Compose([Resize(size), PILToTensor(), RandomHorizontalFlip(),
  RandomAffine(degrees=10, scale=(1, 1.1)), ColorJitter(brightness=0.2, contrast=0.2),
  ToDtype(float32, scale=True)])` per image, and torch's `DataLoader` collating. It does no
  perspective warp, so layered does more work per image.
The epochs of every pipeline and worker count are timed in turn (order alternating) and the
median is reported, so the scaling from 0 to 2 workers is a ratio measured side by side.
Each epoch with workers starts them anew (forking this process: ~30 ms per worker here) and waits
for their first batch, a fixed cost that short epochs feel; `--persistent` keeps both sides'
workers across epochs.
Run: python benchmarks/vision.py [--n 512] [--size 160] [--out 128] [--bs 64] [--repeats 3] [--persistent]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from _timing import fmt_time, print_table
from PIL import Image
from torch.utils.data import DataLoader as TorchDataLoader
from torchvision.datasets import ImageFolder
from torchvision.transforms import InterpolationMode, v2

from layered.core.seed import set_seed
from layered.vision.augment import aug_transforms
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.item_transforms import Resize

CLASSES = ("circle", "square", "stripes", "noise")
WORKERS = (0, 2)
IN_WORKERS = "layered, batch tfms in workers"


def write_jpegs(root: Path, n: int, size: int) -> None:
    """`n` training and `n // 8` validation JPEGs of `size`×`size` in `root/{train,valid}/<class>/`."""
    rng = np.random.default_rng(0)
    for split, count in (("train", n), ("valid", max(len(CLASSES), n // 8))):
        for i in range(count):
            label = CLASSES[i % len(CLASSES)]
            # smooth random colour fields compress and decode like photos, unlike white noise
            low = rng.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8)
            im = Image.fromarray(low).resize((size, size), Image.Resampling.BICUBIC)
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            im.save(folder / f"{i:05d}.jpg", quality=90)


def torchvision_loader(
    root: Path, out: int, bs: int, workers: int, persistent: bool = False
) -> TorchDataLoader:
    """torchvision's usual training pipeline over `root/train`, with the comparable augmentations."""
    tfms = v2.Compose(
        [
            v2.Resize(out, interpolation=InterpolationMode.BILINEAR),
            v2.PILToTensor(),
            v2.RandomHorizontalFlip(),
            v2.RandomAffine(degrees=10, scale=(1.0, 1.1), interpolation=InterpolationMode.BILINEAR),
            v2.ColorJitter(brightness=0.2, contrast=0.2),
            v2.ToDtype(torch.float32, scale=True),
        ]
    )
    ds = ImageFolder(str(root / "train"), transform=tfms)
    return TorchDataLoader(
        ds, batch_size=bs, shuffle=True, num_workers=workers, drop_last=True, persistent_workers=persistent
    )


def layered_loader(
    root: Path,
    out: int,
    bs: int,
    workers: int,
    in_workers: bool = False,
    device: str = "cpu",
    persistent: bool = False,
) -> Iterable:
    """layered's training loader over `root/train`: Resize per item, aug_transforms per batch on `device`.

    `in_workers`: the batch transforms run in the workers (`after_batch_in_workers`).
    """
    dls = ImageDataLoaders.from_folder(
        root,
        item_tfms=Resize(out),
        batch_tfms=aug_transforms(),
        bs=bs,
        num_workers=workers,
        device=device,
        after_batch_in_workers=in_workers,
        persistent_workers=persistent,
    )
    return dls.train


def epoch(loader: Iterable) -> tuple[float, int]:
    """Seconds for one pass over `loader`, and the number of images it gave."""
    start, n = time.perf_counter(), 0
    for x, _ in loader:
        n += len(x)
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512, help="training images")
    parser.add_argument("--size", type=int, default=160, help="pixels per side of the JPEG files")
    parser.add_argument("--out", type=int, default=128, help="pixels per side of the batches")
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--persistent",
        action="store_true",
        help="both sides keep their workers across epochs (persistent_workers)",
    )
    args = parser.parse_args()
    set_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_jpegs(root, args.n, args.size)
        loaders: dict[tuple[str, int], Iterable] = {}
        for workers in WORKERS:
            keep = args.persistent and workers > 0
            loaders["layered", workers] = layered_loader(root, args.out, args.bs, workers, persistent=keep)
            if workers:
                loaders[IN_WORKERS, workers] = layered_loader(
                    root, args.out, args.bs, workers, in_workers=True, persistent=keep
                )
            loaders["torchvision", workers] = torchvision_loader(
                root, args.out, args.bs, workers, persistent=keep
            )
        for loader in loaders.values():  # warm-up: file cache, lazy initialisation
            epoch(loader)
        # every pipeline and worker count in turn, the order reversed every other round: the
        # host's slow and fast spells fall on all of them alike
        times: dict[tuple[str, int], list[float]] = {key: [] for key in loaders}
        keys = list(loaders)
        for r in range(args.repeats):
            for key in keys if r % 2 == 0 else reversed(keys):
                seconds, n = epoch(loaders[key])
                times[key].append(seconds / n)
    per_image = {key: statistics.median(ts) for key, ts in times.items()}
    for (name, workers), t in per_image.items():
        speedup = per_image["torchvision", workers] / t
        ours = name != "torchvision"
        rows.append(
            [
                name,
                workers,
                fmt_time(t * args.bs),
                f"{1 / t:,.0f}",
                f"{speedup:.2f}×",
                f"≥1.00× ({'pass' if speedup >= 1 else 'FAIL'})" if ours else "—",
            ]
        )
    print(
        f"{args.n} JPEGs {args.size}×{args.size} → batches of {args.bs}×3×{args.out}×{args.out} float32, "
        f"{torch.get_num_threads()} torch threads in the main process, torch {torch.__version__}, "
        f"median of {args.repeats} epochs{', persistent workers' if args.persistent else ''}\n"
    )
    print_table(
        ["pipeline", "num_workers", "time per batch", "images/s", "speed vs torchvision", "target"], rows
    )
    most = max(WORKERS)
    print(f"\nimages/s at {most} workers over images/s at 0 workers (epochs interleaved):")
    for name, workers in per_image:
        if workers == most:
            base = per_image.get((name, 0), per_image["layered", 0])
            print(f"- {name}: {base / per_image[name, most]:.2f}×")


if __name__ == "__main__":
    main()
