"""Learner export and load against a plain `torch.save(state_dict)` / `torch.load(weights_only=True)`.

Two learners: an XResNet-18 vision learner on scikit-learn's digits (written as PNG folders,
32 px, batch augmentation and normalization) and a tabular learner on Palmer penguins-sized
synthetic data. For each: the time to `learn.export()` (describe, prove the round trip on one
batch, write atomically) and to `load_learner(file)` (check, rebuild model and pipeline from
registered parts, fill the weights), next to `torch.save` / `torch.load(weights_only=True)` of
the same model's state dict; and both file sizes. Timed in turn, median over repeats.
Targets: load ≤1.5× the plain state-dict load, file ≤1.05× its size.

Run: python benchmarks/export.py [--repeats R]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _timing import fmt_time, interleaved, print_table, verdict

from layered.core.seed import set_seed
from layered.tabular.learner import tabular_learner
from layered.tabular.procs import Categorify, FillMissing, TabularNormalize
from layered.tabular.tabular_pandas import TabularDataLoaders
from layered.train.learner import load_learner
from layered.vision.augment import aug_transforms
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.digits import digits_folder
from layered.vision.item_transforms import Resize
from layered.vision.learner import vision_learner
from layered.vision.xresnet import xresnet18


def vision(folder: Path):
    """The README's digits learner (XResNet-18, 32 px)."""
    dls = ImageDataLoaders.from_folder(
        digits_folder(), item_tfms=Resize(32), batch_tfms=aug_transforms(do_flip=False), bs=64
    )
    return vision_learner(dls, xresnet18, pretrained=False, path=folder)


def tabular(folder: Path):
    """A classifier over 3 categorical and 4 continuous columns, 2,000 rows."""
    rng = np.random.default_rng(0)
    n = 2_000
    df = pd.DataFrame(
        {
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
            "sex": rng.choice(["male", "female", None], n),
            "year": rng.choice([2007, 2008, 2009], n).astype(str),
            **{c: rng.normal(size=n) for c in ("bill_length", "bill_depth", "flipper", "mass")},
        }
    )
    df["species"] = np.where(df["bill_length"] + (df["island"] == "Dream") > 0.5, "Gentoo", "Adelie")
    dls = TabularDataLoaders.from_df(
        df,
        procs=[Categorify, FillMissing, TabularNormalize],
        cat_names=["island", "sex", "year"],
        cont_names=["bill_length", "bill_depth", "flipper", "mass"],
        y_names="species",
        valid_pct=0.2,
        seed=0,
        bs=256,
    )
    return tabular_learner(dls, layers=[200, 100], path=folder)


def measure(name: str, learn, folder: Path, repeats: int) -> list[list[str]]:
    """Rows for one learner: export and load against plain torch, and the file sizes."""
    plain = folder / f"{name}_state.pth"
    state = learn.model.state_dict()
    cases = {
        "export": lambda: learn.export(f"{name}.safetensors"),
        "torch.save": lambda: torch.save(state, plain),
    }
    saves = interleaved(cases, number=1, repeats=repeats)
    exported = folder / f"{name}.safetensors"
    loads = interleaved(
        {
            "load_learner": lambda: load_learner(exported),
            "torch.load": lambda: torch.load(plain, weights_only=True),
        },
        number=1,
        repeats=repeats,
    )
    size, plain_size = exported.stat().st_size, plain.stat().st_size
    load_ratio, size_ratio = loads["load_learner"] / loads["torch.load"], size / plain_size
    return [
        [name, "export vs torch.save", fmt_time(saves["export"]), fmt_time(saves["torch.save"]),
         f"{saves['export'] / saves['torch.save']:.2f}×", "-", "-"],
        [name, "load_learner vs torch.load", fmt_time(loads["load_learner"]), fmt_time(loads["torch.load"]),
         f"{load_ratio:.2f}×", "≤1.5×", verdict(load_ratio, 1.5)],
        [name, "file size", f"{size / 1e6:.2f} MB", f"{plain_size / 1e6:.2f} MB",
         f"{size_ratio:.3f}×", "≤1.05×", verdict(size_ratio, 1.05)],
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    set_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, build in (("vision xresnet18", vision), ("tabular", tabular)):
            rows += measure(name.split()[0], build(folder), folder, args.repeats)
    print_table(["learner", "what", "layered", "plain torch", "ratio", "target", "verdict"], rows)


if __name__ == "__main__":
    main()
