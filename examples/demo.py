"""The README demo: classify the 1,797 real 8×8 handwritten digits that scikit-learn ships.

It uses the layers that exist so far, end to end: the data block API builds the loaders (vocab
from the training labels, a random 20% validation split), a `Learner` trains an MLP with the
1cycle schedule after `lr_find`, and the learner is exported to one file, reloaded without
executing code from it, and asked to predict a digit. Outputs go to `demo_output/`.
Run: hatch run demo   (or: python examples/demo.py)
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from torch import nn

from examples.digits import PIXELS, get_label, get_pixels
from layered.core.seed import set_seed
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.export import load_learner
from layered.train.learner import Learner
from layered.train.metrics_classification import accuracy

OUT = Path("demo_output")


def main() -> None:
    start = time.time()
    set_seed(42)
    OUT.mkdir(exist_ok=True)
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=get_pixels,
        get_y=get_label,
        splitter=RandomSplitter(valid_pct=0.2, seed=42),
    )
    dls = dblock.dataloaders(list(range(len(PIXELS))), bs=64, path=OUT)
    n_train, n_valid = len(dls.train.dataset), len(dls.valid.dataset)
    vocab = dls.valid.dataset.tls[1].tfms.fs[-1].vocab
    print(
        f"digits: {len(PIXELS)} real 8x8 images from scikit-learn; {n_train} train / {n_valid} valid; "
        f"classes {list(vocab)}"
    )

    model = nn.Sequential(
        nn.Linear(64, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10)
    )
    learn = Learner(dls, model, metrics=accuracy, path=OUT)
    print(f"loss inferred from the target block: {type(learn.loss_func).__name__}")
    suggested = learn.lr_find(show_plot=True)
    plt.savefig(OUT / "lr_find.png")
    plt.close("all")
    lr = float(np.clip(suggested.valley, 1e-3, 3e-2))
    print(f"lr_find suggests {suggested.valley:.2e}; training with lr_max={lr:.2e}")
    learn.fit_one_cycle(12, lr)
    learn.recorder.plot_loss()
    plt.savefig(OUT / "loss.png")
    plt.close("all")

    valid_loss, acc = learn.validate()
    print(f"validation accuracy: {acc:.4f} (loss {valid_loss:.4f})")
    file = learn.export("digits.pth")
    reloaded = load_learner(file, allow=["examples.digits"])  # the getters live there
    valid_items = list(dls.valid.dataset.items)
    before = learn.get_preds(dl=dls.test_dl(valid_items))[0]
    after = reloaded.get_preds(dl=reloaded.dls.test_dl(valid_items))[0]
    i = valid_items[0]
    label, index, probs = reloaded.predict(i)
    print(
        f"exported to {file} ({file.stat().st_size / 1024:.0f} KiB) and reloaded without pickle: "
        f"identical predictions on all {len(valid_items)} validation images: {bool((before == after).all())}"
    )
    print(f"reloaded.predict({i}) -> {label!r} (true label {get_label(i)!r}), p={float(probs[index]):.3f}")
    print(f"plots in {OUT}/: lr_find.png, loss.png; total time {time.time() - start:.1f} s")
    if acc < 0.95:
        raise SystemExit(f"demo accuracy {acc:.4f} is below the expected 0.95")


if __name__ == "__main__":
    main()
