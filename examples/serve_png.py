"""Classify a PNG with an exported layered model, using onnxruntime, PIL, numpy and the JSON sidecar alone.

Run: python examples/serve_png.py model.onnx image.png   (prints the class and its probability)
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image

graph, png = Path(sys.argv[1]), sys.argv[2]
sidecar = json.loads(graph.with_suffix(".json").read_text())
h, w = next(step["size"] for step in sidecar["outside"]["item_steps"] if "size" in step)
im = Image.open(png).convert("L" if "to L" in sidecar["outside"]["decode"]["image"] else "RGB")
s = min(im.width / w, im.height / h)  # the centred crop of the training aspect, resized in one step
box = ((im.width - w * s) / 2, (im.height - h * s) / 2, (im.width + w * s) / 2, (im.height + h * s) / 2)
if im.size != (w, h):
    im = im.resize((w, h), Image.Resampling.BILINEAR, box=box)
pixels = np.asarray(im, dtype=np.uint8).reshape(h, w, -1).transpose(2, 0, 1)[None]  # 1×C×H×W uint8
session = onnxruntime.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
probs, decoded = session.run(["preds", "decoded"], {"image": pixels})
print(sidecar["decoding"]["classes"][int(decoded[0])], f"{float(probs[0].max()):.4f}")
