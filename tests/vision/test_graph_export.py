"""ONNX and torch.export of vision learners: the whole inference path, parity with get_preds (issue 17)."""

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from graph_parity import assert_graph_parity, onnx_runtime
from PIL import Image

from layered.core.seed import set_seed
from layered.train.saving.serving import raw_batch
from layered.vision.augment import aug_transforms
from layered.vision.dataloaders import ImageDataLoaders, SegmentationDataLoaders
from layered.vision.item_transforms import Resize
from layered.vision.learner import vision_learner
from layered.vision.normalize import Normalize, imagenet_stats
from layered.vision.unet import unet_learner
from layered.vision.xresnet import xresnet18

SIZE = 16
tiny_xresnet = functools.partial(xresnet18, widen=0.125, stem_szs=(8, 8, 16))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """`root/{train,valid}/<label>/*.png`: 20x18 noise images (item_tfms resize them); returns root and files."""
    root, rng, files = tmp_path_factory.mktemp("pets"), np.random.default_rng(0), []
    for split, n in (("train", 4), ("valid", 3)):
        for label in ("cat", "dog"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                file = folder / f"{label}_{split}{i}.png"
                Image.fromarray(rng.integers(0, 256, (20, 18, 3)).astype(np.uint8)).save(file)
                files.append(file)
    return root, files


def classifier_dls(root):
    tfms = [*aug_transforms(), Normalize.from_stats(*imagenet_stats)]
    return ImageDataLoaders.from_folder(root, item_tfms=Resize(SIZE), batch_tfms=tfms, bs=4)


def check(learn, files, tmp_path):
    """Parity of both exports with get_preds on `files`, fed to the graph as the loader's raw uint8 batch."""
    dl = learn.dls.test_dl(files)
    return assert_graph_parity(learn, dl, raw_batch(dl, len(files))[:1], tmp_path)


def test_xresnet_classifier_matches_get_preds(images, tmp_path):
    onnx_runtime()
    root, files = images
    set_seed(0)
    learn = vision_learner(classifier_dls(root), tiny_xresnet, pretrained=False)
    sidecar = check(learn, files[:5], tmp_path)
    assert sidecar["inputs"] == [
        {"name": "image", "dtype": "uint8", "shape": ["batch", 3, "height", "width"]}
    ]
    assert sidecar["decoding"]["classes"] == ["cat", "dog"]
    assert sidecar["decoding"]["decoded"] == "argmax(preds, axis=-1)"
    assert sidecar["outside"]["item_steps"][0]["size"] == [SIZE, SIZE]
    assert "RGB" in sidecar["outside"]["decode"]["image"]


def test_torchvision_body_matches_get_preds(images, tmp_path):
    onnx_runtime()
    root, files = images
    set_seed(0)
    learn = vision_learner(classifier_dls(root), torchvision.models.resnet18, pretrained=False)
    check(learn, files[-3:], tmp_path)


def test_the_graph_resizes_an_image_of_another_size_to_the_training_size(images, tmp_path):
    ort = onnx_runtime()
    root, files = images
    set_seed(0)
    learn = vision_learner(classifier_dls(root), tiny_xresnet, pretrained=False, path=tmp_path)
    file = learn.export_onnx()
    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    image = raw_batch(learn.dls.test_dl(files[:3]), 3)[0]  # at the training size
    big = torch.nn.functional.interpolate(image.float(), scale_factor=2, mode="nearest").to(torch.uint8)
    small, large = (session.run(["preds"], {"image": x.numpy()})[0] for x in (image, big))
    assert large.shape == small.shape == (3, 2)
    # a nearest-neighbour doubling, resized back bilinearly, is close to the image itself
    assert np.abs(large - small).max() < 0.2


def mask_of(path):
    """The mask file of an image: `<stem>_mask.png` beside it."""
    return path.with_name(f"{path.stem}_mask.png")


def test_unet_segmentation_matches_get_preds(tmp_path):
    onnx_runtime()
    rng, files = np.random.default_rng(2), []
    for i in range(8):
        a = rng.integers(0, 256, (SIZE, SIZE, 3)).astype(np.uint8)
        file = tmp_path / f"im{i}.png"
        Image.fromarray(a).save(file)
        Image.fromarray((a[..., 0] > 127).astype(np.uint8)).save(mask_of(file))
        files.append(file)
    dls = SegmentationDataLoaders.from_label_func(
        tmp_path,
        files,
        mask_of,
        codes=["bg", "fg"],
        seed=0,
        bs=4,
        batch_tfms=Normalize.from_stats(*imagenet_stats),
    )
    set_seed(0)
    learn = unet_learner(dls, tiny_xresnet, pretrained=False)
    sidecar = check(learn, files[:3], tmp_path / "out")
    assert sidecar["decoding"]["classes"] == ["bg", "fg"]
    assert sidecar["decoding"]["decoded"] == "argmax(preds, axis=1)"


def test_the_example_serving_script_predicts_what_predict_does(images, tmp_path):
    """examples/serve_png.py (onnxruntime, PIL, numpy and the sidecar only) on PNGs that need the centred crop."""
    onnx_runtime()
    root, files = images
    set_seed(0)
    learn = vision_learner(classifier_dls(root), tiny_xresnet, pretrained=False, path=tmp_path)
    graph = learn.export_onnx("digits.onnx")
    script = Path(__file__).resolve().parents[2] / "examples" / "serve_png.py"
    for file in files[:2] + files[-2:]:
        out = subprocess.run(
            [sys.executable, str(script), str(graph), str(file)], capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        label, prob = out.stdout.split()
        expected_label, index, probs = learn.predict(file)
        assert label == expected_label
        assert float(prob) == pytest.approx(float(probs[int(index)]), abs=1e-4)
