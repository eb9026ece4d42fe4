"""Fixed flips and quarter turns: exact, equal to `Dihedral`'s resampling, and the views of `learn.tta`."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.vision.affine import Dihedral, Flip
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.errors import VisionError
from layered.vision.fixed_symmetries import FixedDihedral, FixedFlip, dihedral_views, flip_views
from layered.vision.types import TensorBBox, TensorImage, TensorMask, TensorPoint

G = torch.Generator().manual_seed(0)


def _batch(h=6, w=6):
    img = TensorImage(torch.rand(2, 3, h, w, generator=G))
    mask = TensorMask(torch.randint(0, 4, (2, h, w), generator=G))
    pts = TensorPoint(torch.rand(2, 3, 2, generator=G) * 2 - 1, img_size=(w, h))
    boxes = TensorBBox(torch.tensor([[[-0.8, -0.5, 0.2, 0.9]], [[0.1, -0.9, 0.6, -0.2]]]), img_size=(w, h))
    return img, mask, pts, boxes


@pytest.mark.parametrize("k", range(8))
def test_each_fixed_symmetry_equals_dihedral_resampling_that_symmetry(k):
    b = _batch()
    fixed = FixedDihedral(k)(b)
    random_part = Dihedral(p=1.0)
    mats = random_part.matrix(torch.full((2,), k), (6, 6), (6, 6))
    resampled = random_part.apply(b, mats)
    assert [type(o) for o in fixed] == [TensorImage, TensorMask, TensorPoint, TensorBBox]
    assert torch.allclose(fixed[0], resampled[0], atol=1e-5)
    assert torch.equal(fixed[1].as_subclass(torch.Tensor), resampled[1].as_subclass(torch.Tensor))
    assert torch.allclose(fixed[2], resampled[2], atol=1e-5)
    assert torch.allclose(fixed[3], resampled[3], atol=1e-5)
    # exact: every pixel value is moved, none interpolated
    assert sorted(fixed[0].flatten().tolist()) == sorted(b[0].flatten().tolist())


def test_the_eight_views_are_distinct_and_flip_is_the_mirror():
    img = _batch()[0]
    views = [FixedDihedral(k)(img) for k in range(8)]
    assert len({tuple(v.flatten().tolist()) for v in views}) == 8
    assert torch.equal(views[0], img)
    assert torch.equal(FixedFlip()(img), img.flip(-1)) and torch.equal(
        FixedFlip(vertical=True)(img), img.flip(-2)
    )
    flipped = Flip(p=1.0)(img, split_idx=0)  # the random flip, drawn with probability 1
    assert torch.allclose(FixedFlip()(img), flipped, atol=1e-5)
    assert [f.k for f in dihedral_views()] == list(range(8)) and [f.k for f in flip_views()] == [0, 1]
    assert FixedDihedral(3).split_idx is None  # every split: validation batches too


def test_a_quarter_turn_of_a_non_square_batch_swaps_its_size():
    b = _batch(h=4, w=6)
    img, mask, pts, boxes = FixedDihedral(4)(b)
    assert img.shape == (2, 3, 6, 4) and mask.shape == (2, 6, 4)
    assert torch.equal(img, b[0].transpose(-2, -1)) and torch.equal(pts, b[2].flip(-1))
    assert pts.img_size == (4, 6) and boxes.img_size == (4, 6)
    with pytest.raises(VisionError, match=r"k=8; expected a symmetry index, an int in 0\.\.7"):
        FixedDihedral(8)


def _image(label, rng):
    a = rng.integers(60, 200, (8, 8, 3)).astype(np.uint8)
    a[{"top": np.s_[:4], "left": np.s_[:, :4]}[label]] //= 6
    return Image.fromarray(a)


def test_tta_with_the_dihedral_views_averages_the_eight_views_exactly(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("valid", 3)):
        for label in ("top", "left"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(n):
                _image(label, rng).save(tmp_path / split / label / f"{i}.png")
    dls = ImageDataLoaders.from_folder(tmp_path, bs=4)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)
    )
    learn = Learner(dls, model)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    (augmented, plain), targs = learn.tta(tfms=dihedral_views(), beta=None)
    x = torch.cat([xb.as_subclass(torch.Tensor) for xb, _ in dls.valid])
    xt = x.transpose(-2, -1)
    views = [x, x.flip(-1), x.flip(-2), x.flip(-2, -1), xt, xt.flip(-1), xt.flip(-2), xt.flip(-2, -1)]
    model.eval()
    with torch.no_grad():
        per_view = torch.stack([model(v).softmax(1) for v in views])
    assert augmented.shape == (6, 2) and len(targs) == 6
    assert torch.allclose(augmented, per_view.mean(0), atol=1e-6)
    assert torch.allclose(plain, per_view[0], atol=1e-6)
    assert not torch.allclose(per_view[0], per_view[4], atol=1e-4)  # the views do give different predictions
    mixed, _ = learn.tta(tfms=flip_views(), beta=0.5)
    assert torch.allclose(mixed, 0.5 * per_view[:2].mean(0) + 0.5 * per_view[0], atol=1e-6)
    with pytest.raises(TrainError, match="runs on split 0 only"):
        learn.tta(tfms=[Flip(p=1.0)])
    with pytest.raises(TrainError, match="tfms is an empty set of views"):
        learn.tta(tfms=[])
