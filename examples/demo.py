"""The README demo: an XResNet-18 trained from scratch on the 1,797 real 8×8 handwritten digits.

scikit-learn ships the digits; `digits_folder` writes them once as PNG files in class folders
(`train/` and `valid/`), and from there it is the usual vision recipe: `ImageDataLoaders` from
the folder, upsampled per item and augmented per batch, `vision_learner` with `lr_find` and
the 1cycle schedule, an interpretation of the errors, then export, reload and predict one image.
Plots go to `demo_output/`. The run fails (exit status 1) below 97% validation accuracy.
Run: hatch run demo   (or: python -m examples.demo [--epochs N] [--size PIXELS])
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the demo also runs where there is no display
import matplotlib.pyplot as plt
import numpy as np

from layered.core.seed import set_seed
from layered.train.interpret import ClassificationInterpretation
from layered.train.learner import load_learner
from layered.train.metrics.classification import accuracy
from layered.vision.augment import aug_transforms
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.digits import digits_folder
from layered.vision.item_transforms import Resize
from layered.vision.learner import vision_learner
from layered.vision.xresnet import xresnet18

OUT = Path("demo_output")
TARGET = 0.97


def save(name: str) -> str:
    """Save the current matplotlib figure as `OUT/name` and close every figure."""
    plt.savefig(OUT / name, dpi=80, bbox_inches="tight")
    plt.close("all")
    return name


def print_row(row: list) -> None:
    """Print one row of the training table (the header, then one per epoch) in aligned columns."""
    print("  ".join(f"{v:>10.4f}" if isinstance(v, float) else f"{v!s:>10}" for v in row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument(
        "--size", type=int, default=24, help="pixels per side the 8x8 digits are upsampled to"
    )
    args = parser.parse_args()
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    set_seed(42)
    OUT.mkdir(exist_ok=True)
    plots = []

    path = digits_folder()
    resize = Resize(args.size)
    # no flips: a mirrored 2 is not a 2; small rotations, zooms and warps are how people write
    dls = ImageDataLoaders.from_folder(
        path, item_tfms=resize, batch_tfms=aug_transforms(do_flip=False), bs=64
    )
    print(
        f"{path}: {len(dls.train_ds)} training and {len(dls.valid_ds)} validation images, "
        f"classes {list(dls.vocab)}"
    )
    dls.show_batch(max_n=16, figsize=(6, 6))
    plots.append(save("show_batch.png"))

    learn = vision_learner(dls, xresnet18, pretrained=False, metrics=accuracy, path=OUT)
    found = learn.lr_find(num_it=40)
    plots.append(save("lr_find.png"))
    # from scratch the valley can sit at the edge of the steep part; keep it in a sane range
    lr = float(np.clip(found.valley, 1e-3, 1e-2))
    print(f"lr_find suggests {found.valley:.1e}; training {args.epochs} epochs with lr_max={lr:.1e}")
    learn.logger = print_row
    with learn.no_bar():  # plain rows, no bars: the output may be a CI log rather than a terminal
        learn.fit_one_cycle(args.epochs, lr)
    learn.recorder.plot_loss()
    plots.append(save("loss.png"))

    interp = ClassificationInterpretation.from_learner(learn)
    acc = float((interp.decoded == interp.targs).float().mean())
    interp.plot_confusion_matrix(figsize=(5, 5))
    plots.append(save("confusion_matrix.png"))
    print("most confused (actual, predicted, count):", interp.most_confused()[:5])
    learn.show_results(max_n=16, figsize=(6, 6))
    plots.append(save("show_results.png"))

    file = learn.export("digits_xresnet18.safetensors")
    reloaded = load_learner(file)
    image = dls.valid_ds.items[0]
    label, index, probs = reloaded.predict(image)
    print(
        f"exported to {file} ({file.stat().st_size / 2**20:.1f} MiB) and reloaded; "
        f"predict({image.relative_to(path)}) -> {label!r} with p={float(probs[int(index)]):.3f} "
        f"(true label {image.parent.name!r})"
    )

    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    print(f"plots in {OUT}/: {', '.join(plots)}")
    print(f"validation accuracy {acc:.4f}; time {wall:.0f} s wall, {cpu:.0f} s CPU")
    if acc < TARGET:
        raise SystemExit(f"demo accuracy {acc:.4f} is below the expected {TARGET}")


if __name__ == "__main__":
    main()
