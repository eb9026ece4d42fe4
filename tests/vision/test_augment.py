import math

import pytest
import torch
import torch.nn.functional as F

from layered.core.pipeline import Pipeline
from layered.core.seed import set_seed
from layered.data.datasets import Datasets
from layered.vision.affine import AffineCoordTfm, Flip, RandomResizedCropGPU, Rotate, Warp, Zoom
from layered.vision.augment import RandomErasing, aug_transforms, compose_augmentations
from layered.vision.errors import VisionError
from layered.vision.lighting import Brightness, Contrast, LightingTfm
from layered.vision.normalize import ImageNormalize, imagenet_stats
from layered.vision.types import TensorBBox, TensorImage, TensorMask, TensorPoint


def plain(x):
    return x.as_subclass(torch.Tensor)


def wave(x, y):
    """A detailed test pattern, defined everywhere: pixel coordinates in, values in [0, 1] out."""
    return (
        0.5
        + 0.25 * torch.sin(2 * math.pi * x / 4.3) * torch.cos(2 * math.pi * y / 5.1)
        + 0.2 * torch.sin(2 * math.pi * (x + y) / 7.0)
    )


def batch(n=4, h=16, w=16):
    set_seed(0)
    img = TensorImage(torch.rand(n, 3, h, w))
    mask = TensorMask(torch.randint(0, 4, (n, h, w)))
    pts = TensorPoint(torch.rand(n, 5, 2) - 0.5, img_size=(w, h))
    lo = torch.rand(n, 3, 2) - 0.8
    bbox = TensorBBox(torch.cat([lo, lo + 0.5], -1), img_size=(w, h))
    return img, mask, pts, bbox, torch.randint(1, 5, (n, 3))


def test_rotate_and_zoom_compose_into_one_resampling_that_keeps_more_detail():
    n = 64
    ys, xs = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
    x = TensorImage(wave(xs, ys)[None, None])
    settings = {"align_corners": False, "pad_mode": "reflection"}
    rot, zoom = Rotate(p=1.0, **settings), Zoom(p=1.0, **settings)
    r = rot.matrix(torch.tensor([20.0]), (n, n), (n, n))
    z = zoom.matrix(torch.tensor([[1.3, 0.5, 0.5]]), (n, n), (n, n))
    composed = rot.compose(zoom)
    assert type(composed) is AffineCoordTfm and composed.parts == [rot, zoom]
    once = plain(composed.apply(x, r @ z))

    def sample(img, m):
        grid = F.affine_grid(m[:, :2], list(img.shape), align_corners=False)
        return F.grid_sample(img, grid, "bilinear", "reflection", align_corners=False)

    torch.testing.assert_close(
        once, sample(plain(x), r @ z), atol=1e-5, rtol=0
    )  # the single-interpolation reference
    twice = sample(sample(plain(x), r), z)
    # the exact result: the pattern evaluated where each output pixel's centre maps to
    p = torch.stack([xs / n * 2 - 1, ys / n * 2 - 1, torch.ones_like(xs)], -1) @ (r @ z)[0].T
    exact = wave((p[..., 0] + 1) * n / 2, (p[..., 1] + 1) * n / 2)
    inner = slice(n // 4, 3 * n // 4)
    err_once = (once[0, 0, inner, inner] - exact[inner, inner]).pow(2).mean()
    err_twice = (twice[0, 0, inner, inner] - exact[inner, inner]).pow(2).mean()
    assert err_once < 0.5 * err_twice, (err_once, err_twice)

    def detail(img):
        return (
            img[0, 0, 1:, :].sub(img[0, 0, :-1, :]).pow(2).mean()
            + img[0, 0, :, 1:].sub(img[0, 0, :, :-1]).pow(2).mean()
        )

    assert detail(once) > 1.3 * detail(twice)


def test_aug_transforms_merges_into_one_affine_and_one_lighting_transform():
    tfms = aug_transforms()
    assert [type(t) for t in tfms] == [AffineCoordTfm, LightingTfm]
    assert [type(p).__name__ for p in tfms[0].parts] == ["Flip", "Warp", "Rotate", "Zoom"]
    assert [type(p) for p in tfms[1].parts] == [Brightness, Contrast]
    rot = tfms[0].parts[2]
    assert (
        rot.max_deg == 10
        and rot.p == 0.75
        and tfms[0].parts[0].p == 0.5
        and tfms[0].parts[1].magnitude == 0.2
    )
    assert tfms[1].parts[0].max_lighting == 0.2 and tfms[1].parts[0].p == 0.75 and tfms[0].split_idx == 0
    flipv = aug_transforms(mult=2.0, flip_vert=True, max_warp=0.0, max_lighting=0.0)
    assert [type(p).__name__ for p in flipv[0].parts] == ["Dihedral", "Rotate", "Zoom"] and len(flipv) == 1
    assert flipv[0].parts[1].max_deg == 20
    extra = aug_transforms(xtra_tfms=[Rotate(max_deg=5), Contrast()])
    assert [type(p).__name__ for p in extra[0].parts][-1] == "Rotate" and len(extra) == 2
    assert [type(p) for p in extra[1].parts] == [Brightness, Contrast, Contrast]


def test_aug_transforms_with_size_crops_training_and_resizes_validation():
    tfms = aug_transforms(size=8, min_scale=0.5)
    train, valid = [t for t in tfms if isinstance(t, AffineCoordTfm)]
    assert type(train.parts[0]) is RandomResizedCropGPU and train.size == (8, 8) and valid.split_idx == 1
    b = batch(h=16, w=20)
    out = Pipeline(tfms, split_idx=0)(b)
    assert out[0].shape == (4, 3, 8, 8) and out[1].shape == (4, 8, 8) and out[2].img_size == (8, 8)
    v = Pipeline(tfms, split_idx=1)(b)
    assert v[0].shape == (4, 3, 8, 8) and v[2].img_size == (8, 8)
    with pytest.raises(VisionError, match="needs a size"):
        aug_transforms(min_scale=0.5)


def test_aug_transforms_keep_types_codes_and_ranges():
    b = batch()
    img, mask, pts, bbox, lbl = Pipeline(aug_transforms(max_rotate=30, max_zoom=1.5), split_idx=0)(b)
    assert [type(o) for o in (img, mask, pts, bbox)] == [TensorImage, TensorMask, TensorPoint, TensorBBox]
    assert img.shape == b[0].shape and plain(img).min() > 0 and plain(img).max() < 1
    assert mask.dtype == torch.long and set(mask.unique().tolist()) <= {0, 1, 2, 3}
    assert not torch.equal(plain(img), plain(b[0])) and not torch.equal(plain(pts), plain(b[2]))
    boxes = plain(bbox)
    assert boxes.abs().max() <= 1 and (boxes[..., 2:] >= boxes[..., :2]).all()
    empty = (boxes == 0).all(-1)
    assert torch.equal(lbl == 0, empty)


def test_validation_batches_are_unchanged():
    b = batch()
    tfms = [*aug_transforms(), RandomErasing(p=1.0)]
    out = Pipeline(tfms, split_idx=1)(b)
    assert all(o is i for o, i in zip(out, b))
    for t in tfms:
        assert t(b, split_idx=1) is b


def test_loaders_augment_training_batches_and_leave_validation_alone():
    set_seed(0)
    imgs, masks = torch.rand(12, 3, 8, 8), torch.randint(0, 3, (12, 8, 8))
    getters = [[lambda i: TensorImage(imgs[i])], [lambda i: TensorMask(masks[i])]]
    dsets = Datasets(list(range(12)), getters, splits=[list(range(8)), list(range(8, 12))])
    norm = ImageNormalize.from_stats(*imagenet_stats)
    dls = dsets.dataloaders(bs=4, shuffle_train=False, after_batch=[*aug_transforms(max_rotate=45), norm])
    xv, yv = dls.valid.one_batch()
    assert type(xv) is TensorImage and type(yv) is TensorMask
    torch.testing.assert_close(plain(xv), plain(norm(TensorImage(imgs[8:12]))))
    assert torch.equal(plain(yv), masks[8:12])
    xt, yt = dls.train.one_batch()
    assert type(xt) is TensorImage and xt.shape == (4, 3, 8, 8) and yt.dtype == torch.long
    assert not torch.allclose(plain(xt), plain(norm(TensorImage(imgs[:4]))))


def test_results_are_reproducible_under_set_seed():
    b = batch()
    pipe = Pipeline([*aug_transforms(max_rotate=45), RandomErasing(p=0.5)], split_idx=0)
    set_seed(42)
    first = pipe(b)
    set_seed(42)
    again = pipe(b)
    set_seed(43)
    other = pipe(b)
    for x, y in zip(first, again):
        assert torch.equal(plain(x), plain(y))
    assert not torch.equal(plain(first[0]), plain(other[0]))


def test_compose_augmentations_merges_runs_in_running_order():
    tfms = compose_augmentations([Rotate(), Brightness(), Zoom(), Flip(pad_mode="zeros"), Contrast()])
    assert [type(t) for t in tfms] == [AffineCoordTfm, Flip, LightingTfm]
    assert [type(p) for p in tfms[0].parts] == [Rotate, Zoom]
    assert [type(p) for p in tfms[2].parts] == [Brightness, Contrast]
    assert compose_augmentations([Warp()])[0].parts[0].magnitude == 0.2


def test_random_erasing_replaces_rectangles_with_noise():
    set_seed(0)
    x = TensorImage(torch.full((32, 3, 20, 20), 7.0))
    mask = TensorMask(torch.zeros(32, 20, 20, dtype=torch.long))
    y, m = RandomErasing(p=1.0, sl=0.1, sh=0.3)((x, mask), split_idx=0)
    assert type(y) is TensorImage and m is mask
    erased = plain(y) != 7.0
    assert torch.equal(erased[:, 0], erased[:, 2])
    frac = erased[:, 0].float().mean((1, 2))
    assert frac.min() > 0.05 and frac.max() < 0.36
    rows, cols = erased[:, 0].any(2), erased[:, 0].any(1)
    assert torch.equal(erased[:, 0], rows[:, :, None] & cols[:, None, :])  # one rectangle each
    noise = plain(y)[erased]
    assert abs(noise.mean()) < 0.1 and abs(noise.std() - 1) < 0.1
    assert torch.equal(plain(RandomErasing(p=0.0)(x, split_idx=0)), plain(x))
    many = RandomErasing(p=1.0, sl=0.02, sh=0.05, max_count=4)
    assert many.regions(64, 30, 30).float().mean() > 0.005
