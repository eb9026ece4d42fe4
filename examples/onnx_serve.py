"""Train the README's digits model briefly, export it to ONNX, and serve it with onnxruntime alone.

The learner is the README's: an XResNet-18 from scratch on scikit-learn's digits, written as PNG
folders and upsampled to 32 px, with batch augmentation. After a short fit, `learn.export_onnx`
writes the whole inference path (uint8 image in; resizing, scaling and normalization, the model,
softmax and argmax inside the graph) and a JSON sidecar (decode as RGB, the crop and size,
the class names). Then `examples/serve_png.py` — onnxruntime, PIL and numpy, no layered —
classifies validation PNGs in a separate process, and each answer is compared with
`learn.predict` on the same file.
Run: python examples/onnx_serve.py [--epochs N] [--images K]   (needs pip install layered-train[onnx])
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from layered.core.seed import set_seed
from layered.train.metrics.classification import accuracy
from layered.vision.augment import aug_transforms
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.digits import digits_folder
from layered.vision.item_transforms import Resize
from layered.vision.learner import vision_learner
from layered.vision.xresnet import xresnet18

OUT = Path("onnx_output")
SERVE = Path(__file__).resolve().parent / "serve_png.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--images", type=int, default=5, help="validation PNGs to serve")
    args = parser.parse_args()
    set_seed(42)
    path = digits_folder()
    dls = ImageDataLoaders.from_folder(path, item_tfms=Resize(32), batch_tfms=aug_transforms(do_flip=False))
    learn = vision_learner(dls, xresnet18, pretrained=False, metrics=accuracy, path=OUT)
    with learn.no_bar():
        learn.fit_one_cycle(args.epochs, 1e-2)
    graph = learn.export_onnx("digits.onnx")
    print(f"exported {graph} ({graph.stat().st_size / 2**20:.1f} MiB) and {graph.with_suffix('.json')}")
    agree = 0
    items = dls.valid_ds.items
    for image in items[:: max(1, len(items) // args.images)][: args.images]:  # across the classes
        served = subprocess.run(
            [sys.executable, str(SERVE), str(graph), str(image)], capture_output=True, text=True, check=True
        ).stdout.split()
        label, index, probs = learn.predict(image)
        same = served[0] == label and abs(float(served[1]) - float(probs[int(index)])) < 1e-4
        agree += same
        print(
            f"{image.relative_to(path)}: served {served[0]} (p={served[1]}), predict {label} -> {'same' if same else 'DIFFERENT'}"
        )
    if agree != args.images:
        raise SystemExit(f"onnxruntime and predict disagree on {args.images - agree} of {args.images} images")


if __name__ == "__main__":
    main()
