"""Point regression end to end: a learner predicting keypoints trains and decodes to image coordinates."""

import functools

import numpy as np
import torch
from PIL import Image

from layered.core.seed import set_seed
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.losses.flattened import MSELossFlat
from layered.vision.blocks import ImageBlock, PointBlock
from layered.vision.item_transforms import Resize
from layered.vision.learner import vision_learner
from layered.vision.types import TensorPoint
from layered.vision.xresnet import xresnet18

SIZE = 24
tiny = functools.partial(xresnet18, widen=0.125, stem_szs=(8, 8, 16))


def _squares(root, n=200):
    """`n` black images, each with a bright 3x3 square; returns {file name: the square's centre (x, y) in pixels}."""
    rng, centres = np.random.default_rng(0), {}
    for i in range(n):
        x, y = (int(v) for v in rng.integers(2, SIZE - 2, 2))
        a = np.zeros((SIZE, SIZE, 3), np.uint8)
        a[y - 1 : y + 2, x - 1 : x + 2] = 255
        Image.fromarray(a).save(root / f"{i:03d}.png")
        centres[f"{i:03d}.png"] = (x + 0.5, y + 0.5)  # pixel (x, y) covers [x, x+1): its centre is x + 0.5
    return centres


def test_a_learner_predicting_keypoints_trains_and_decodes_to_image_coordinates(tmp_path):
    centres = _squares(tmp_path)
    set_seed(0)
    dblock = DataBlock(
        blocks=(ImageBlock, PointBlock),
        get_items=lambda p: sorted(p.glob("*.png")),
        get_y=lambda f: np.array([centres[f.name]], dtype=np.float32),
        splitter=RandomSplitter(0.2, seed=0),
        item_tfms=Resize(SIZE),
    )
    dls = dblock.dataloaders(tmp_path, bs=32)
    learn = vision_learner(dls, tiny, pretrained=False, ps=0.0, y_range=(-1.1, 1.1))
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    assert isinstance(learn.loss_func, MSELossFlat)

    valid_files = list(dls.valid_ds.items)
    truth = np.array([centres[f.name] for f in valid_files])
    mean = np.array([centres[f.name] for f in dls.train_ds.items]).mean(0)
    baseline = np.linalg.norm(truth - mean, axis=1).mean()  # always predicting the mean location: ~8 px

    before = learn.validate()[0]
    learn.fit_one_cycle(20, 1e-2)
    after = learn.validate()[0]
    assert after < before / 4, (before, after)  # measured: ~0.26 -> ~0.02

    # the targets of the validation set, in pixels, are the centres the getter gave
    preds, targs = learn.get_preds(ds_idx=1)[:2]
    assert preds.shape == targs.shape == (len(valid_files), 1, 2)
    pixels = (preds.as_subclass(torch.Tensor).reshape(-1, 2).numpy() + 1) * SIZE / 2
    err = np.linalg.norm(pixels - truth, axis=1).mean()
    assert err < 3.5 and err < baseline / 2, (err, baseline)  # measured: ~2 px against ~8 px

    errs = []
    for f, t in zip(valid_files[:8], truth[:8]):
        point = learn.predict(f)[0]
        assert isinstance(point, TensorPoint) and point.shape == (1, 2), repr(point)
        assert point.img_size == (SIZE, SIZE)
        px = point.to_pixels()
        assert px.shape == (1, 2) and px.dtype == torch.float32
        errs.append(float(np.linalg.norm(px[0].numpy() - t)))
    assert np.mean(errs) < 3.5 and np.mean(errs) < baseline / 2, (errs, baseline)
