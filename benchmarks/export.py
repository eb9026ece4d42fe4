"""Learner export and load against a plain `torch.save(state_dict)` / `torch.load(weights_only=True)`.

Two learners: an XResNet-18 vision learner on scikit-learn's digits (written as PNG folders,
32 px, batch augmentation and normalization) and a tabular learner on Palmer penguins-sized
synthetic data. For each: the time to `learn.export()` (describe, prove the round trip on one
batch, write atomically) and to `load_learner(file)` (check, rebuild model and pipeline from
registered parts, fill the weights), next to `torch.save` / `torch.load(weights_only=True)` of
the same model's state dict; and both file sizes. Timed in turn, median over repeats.
Targets: load ≤1.5× the plain state-dict load, file ≤1.05× its size.

Second section (issue 17), serving the same vision learner from `learn.export_onnx`: onnxruntime
(CPU, 1 thread) against `learn.predict` for one PNG and against `learn.get_preds` for a batch of
64 PNGs. Both sides start from the files: the onnxruntime side decodes and resizes them with PIL
as `examples/serve_png.py` does, then runs the graph (which scales, normalizes, runs the model,
softmax and argmax); the layered side runs its item pipeline, batch transforms and model. The
graph alone on an already decoded batch is shown too. Needs `pip install layered-train[onnx]`.

Third section (issue 19): `load_learner` of a torchvision resnet18 learner on the same digits
against the limit written by hand: build the same `torchvision.models.resnet18()` and load its
weights from a safetensors file (`safetensors.torch.load_file` + `load_state_dict`).

Run: python benchmarks/export.py [--repeats R] [--section export|onnx|resnet18|all]
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


def resnet18_learner(folder: Path):
    """A torchvision resnet18 vision learner (layered head) on the digits, 32 px."""
    from torchvision.models import resnet18

    dls = ImageDataLoaders.from_folder(
        digits_folder(), item_tfms=Resize(32), batch_tfms=aug_transforms(do_flip=False), bs=64
    )
    return vision_learner(dls, resnet18, pretrained=False, path=folder)


def measure_resnet18(folder: Path, repeats: int) -> list[list[str]]:
    """`load_learner` of the resnet18 learner vs torchvision's resnet18 built and filled from safetensors by hand."""
    from safetensors.torch import load_file, save_file
    from torchvision.models import resnet18

    exported = resnet18_learner(folder).export("resnet18.safetensors")
    weights = folder / "resnet18_plain.safetensors"
    save_file(resnet18().state_dict(), weights)

    def by_hand() -> torch.nn.Module:
        model = resnet18()
        model.load_state_dict(load_file(weights))
        return model

    loads = interleaved({"load_learner": lambda: load_learner(exported), "by hand": by_hand}, 1, repeats)
    ratio = loads["load_learner"] / loads["by hand"]
    return [["resnet18", "load_learner vs resnet18() + load_file + load_state_dict",
             fmt_time(loads["load_learner"]), fmt_time(loads["by hand"]), f"{ratio:.2f}×", "-", "-"]]  # fmt: skip


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


def _served_pixels(files: list[Path], sidecar: dict) -> np.ndarray:
    """PNG files decoded and resized with PIL as the sidecar says (see examples/serve_png.py): N×C×H×W uint8."""
    from PIL import Image

    h, w = next(step["size"] for step in sidecar["outside"]["item_steps"] if "size" in step)
    out = []
    for file in files:
        im = Image.open(file).convert("RGB")
        s = min(im.width / w, im.height / h)
        box = (
            (im.width - w * s) / 2,
            (im.height - h * s) / 2,
            (im.width + w * s) / 2,
            (im.height + h * s) / 2,
        )
        if im.size != (w, h):
            im = im.resize((w, h), Image.Resampling.BILINEAR, box=box)
        out.append(np.asarray(im, dtype=np.uint8).transpose(2, 0, 1))
    return np.stack(out)


def measure_onnx(learn, folder: Path, repeats: int) -> list[list[str]]:
    """Rows for serving: onnxruntime on PNG files against predict (one) and get_preds (64)."""
    import onnxruntime

    from layered.train.saving.graph_export import read_sidecar

    graph = learn.export_onnx("digits.onnx")
    sidecar = read_sidecar(graph)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    files = list(learn.dls.valid_ds.items[:64])
    test_dl = learn.dls.test_dl(files, bs=64)
    batch = _served_pixels(files, sidecar)
    one = lambda: session.run(["preds", "decoded"], {"image": _served_pixels(files[:1], sidecar)})
    many = lambda: session.run(["preds", "decoded"], {"image": _served_pixels(files, sidecar)})
    single = interleaved({"onnx": one, "predict": lambda: learn.predict(files[0])}, number=5, repeats=repeats)
    batched = interleaved(
        {
            "onnx": many,
            "get_preds": lambda: learn.get_preds(dl=test_dl),
            "graph only": lambda: session.run(["preds", "decoded"], {"image": batch}),
        },
        number=1,
        repeats=repeats,
    )
    return [
        ["1 PNG: onnxruntime (decode + graph) vs predict", fmt_time(single["onnx"]), fmt_time(single["predict"]),
         f"{single['predict'] / single['onnx']:.1f}×"],
        ["64 PNGs: onnxruntime (decode + graph) vs get_preds", fmt_time(batched["onnx"]),
         fmt_time(batched["get_preds"]), f"{batched['get_preds'] / batched['onnx']:.1f}×"],
        ["64 decoded images: graph only vs get_preds", fmt_time(batched["graph only"]),
         fmt_time(batched["get_preds"]), f"{batched['get_preds'] / batched['graph only']:.1f}×"],
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--section", choices=("export", "onnx", "resnet18", "all"), default="all")
    args = parser.parse_args()
    torch.set_num_threads(1)
    set_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.section in ("export", "all"):
            rows = []
            for name, build in (("vision xresnet18", vision), ("tabular", tabular)):
                rows += measure(name.split()[0], build(folder), folder, args.repeats)
            print_table(["learner", "what", "layered", "plain torch", "ratio", "target", "verdict"], rows)
        if args.section in ("onnx", "all"):
            rows = measure_onnx(vision(folder), folder, args.repeats)
            print()
            print_table(
                ["serving the vision learner", "onnxruntime", "layered", "layered / onnxruntime"], rows
            )
        if args.section in ("resnet18", "all"):
            print()
            rows = measure_resnet18(folder, args.repeats)
            print_table(["learner", "what", "layered", "by hand", "ratio", "target", "verdict"], rows)


if __name__ == "__main__":
    main()
