import math

import pytest
import torch
import torch.nn.functional as F

from layered.core.pipeline import Pipeline
from layered.core.seed import set_seed
from layered.vision.affine import AffineCoordTfm, Dihedral, Flip, RandomResizedCropGPU, Rotate, Warp, Zoom
from layered.vision.errors import VisionError
from layered.vision.types import TensorBBox, TensorImage, TensorMask, TensorPoint


def gradient(n=2, c=3, h=8, w=8):
    """An image whose pixel value is a different linear function of x and y per channel."""
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
    )
    chans = [(xs * (k + 1) + ys * 0.5 * k) / (w * 4 + h * 2) for k in range(c)]
    return TensorImage(torch.stack(chans)[None].repeat(n, 1, 1, 1))


def test_flip_equals_torch_flip_on_images_masks_and_points():
    x = gradient()
    mask = TensorMask(torch.randint(0, 5, (2, 8, 8)))
    pts = TensorPoint(torch.tensor([[[0.5, -0.25]], [[-1.0, 1.0]]]), img_size=(8, 8))
    y, m, p = Flip(p=1.0)((x, mask, pts), split_idx=0)
    assert type(y) is TensorImage and type(m) is TensorMask and type(p) is TensorPoint
    torch.testing.assert_close(
        y.as_subclass(torch.Tensor), x.flip(-1).as_subclass(torch.Tensor), atol=1e-6, rtol=0
    )
    assert torch.equal(m.as_subclass(torch.Tensor), mask.flip(-1).as_subclass(torch.Tensor))
    torch.testing.assert_close(p.as_subclass(torch.Tensor), torch.tensor([[[-0.5, -0.25]], [[1.0, 1.0]]]))
    assert p.img_size == (8, 8)


def test_flip_with_p_zero_and_on_validation_leaves_the_batch_alone():
    x = gradient()
    torch.testing.assert_close(Flip(p=0.0)(x, split_idx=0), x, atol=1e-6, rtol=0)
    assert Flip(p=1.0)(x, split_idx=1) is x
    assert Pipeline([Flip(p=1.0), Rotate(p=1.0)], split_idx=1)(x) is x


@pytest.mark.parametrize("align_corners", [True, False])
def test_rotate_90_degrees_equals_rot90(align_corners):
    x = TensorImage(torch.rand(2, 3, 6, 6))
    r = Rotate(max_deg=90, p=1.0, align_corners=align_corners)
    y = r.apply(x, r.matrix(torch.full((2,), 90.0), (6, 6), (6, 6)))
    torch.testing.assert_close(
        y.as_subclass(torch.Tensor), torch.rot90(x, 1, (-2, -1)).as_subclass(torch.Tensor)
    )


def test_random_rotation_of_points_stays_within_max_deg_and_keeps_the_radius():
    set_seed(3)
    pts = TensorPoint(torch.tensor([[0.5, 0.0]]).repeat(64, 1, 1), img_size=(9, 9))
    img = TensorImage(torch.rand(64, 1, 9, 9))
    _, out = Rotate(max_deg=30, p=1.0)((img, pts), split_idx=0)
    x, y = out[:, 0, 0], out[:, 0, 1]
    torch.testing.assert_close(torch.hypot(x, y), torch.full((64,), 0.5))
    degrees = torch.atan2(-y, x) * 180 / math.pi  # counter-clockwise on screen, where y points down
    assert degrees.abs().max() <= 30 + 1e-4 and degrees.abs().max() > 20 and degrees.std() > 5


def test_point_rotates_to_the_expected_coordinates():
    r = Rotate(p=1.0)
    pts = TensorPoint(torch.tensor([[[0.5, 0.0], [0.0, 0.5]]]), img_size=(8, 8))
    img = TensorImage(torch.rand(1, 3, 8, 8))
    _, out = r.apply((img, pts), r.matrix(torch.tensor([90.0]), (8, 8), (8, 8)))
    torch.testing.assert_close(
        out.as_subclass(torch.Tensor), torch.tensor([[[0.0, -0.5], [0.5, 0.0]]]), atol=1e-6, rtol=0
    )


@pytest.mark.parametrize("align_corners", [True, False])
def test_points_follow_the_image_content_through_a_perspective_composition(align_corners):
    h, w = 24, 32
    px, py = 19.5, 9.5  # the centre of pixel (row 9, column 19)
    img = torch.zeros(1, 1, h, w)
    img[0, 0, 9, 19] = 1.0
    pts = TensorPoint.from_pixels([[px, py]], img_size=(w, h))[None]
    settings = {"align_corners": align_corners, "pad_mode": "zeros"}
    parts = [Warp(p=1.0, **settings), Rotate(p=1.0, **settings), Zoom(p=1.0, **settings)]
    tfm = parts[0].compose(parts[1]).compose(parts[2])
    mats = parts[0].matrix(torch.tensor([[0.15, -0.1]]), (h, w), (h, w))
    mats = mats @ parts[1].matrix(torch.tensor([25.0]), (h, w), (h, w))
    mats = mats @ parts[2].matrix(torch.tensor([[1.2, 0.3, 0.6]]), (h, w), (h, w))
    out_img, out_pts = tfm.apply((TensorImage(img), pts), mats)
    spot = out_img[0, 0].as_subclass(torch.Tensor)
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    centre = torch.stack([(spot * xs).sum() / spot.sum(), (spot * ys).sum() / spot.sum()])
    moved = out_pts.to_pixels()[0, 0]
    assert (moved - centre).abs().max() < 0.35, (moved, centre)


def test_masks_keep_integer_codes_they_had():
    set_seed(0)
    mask = torch.zeros(4, 16, 16, dtype=torch.long)
    mask[:, 4:12, 2:9], mask[:, 10:, 10:] = 3, 7
    img = TensorImage(torch.rand(4, 3, 16, 16))
    tfm = Rotate(max_deg=40, p=1.0).compose(Zoom(max_zoom=1.5, p=1.0)).compose(Warp(p=1.0))
    y, m = tfm((img, TensorMask(mask)), split_idx=0)
    assert y.shape == img.shape and type(m) is TensorMask and m.dtype == torch.long and m.shape == mask.shape
    assert set(m.unique().tolist()) == {0, 3, 7}
    assert not torch.equal(m.as_subclass(torch.Tensor), mask)


def test_zoom_about_the_centre_halves_a_linear_gradient():
    x = gradient(n=1, c=1, h=9, w=9)
    z = Zoom(p=1.0)
    y = z.apply(x, z.matrix(torch.tensor([[2.0, 0.5, 0.5]]), (9, 9), (9, 9)))
    centre = x[0, 0, 4, 4]
    torch.testing.assert_close(y - centre, (x - centre) / 2, atol=1e-6, rtol=0)


def test_warp_moves_the_corners_where_asked():
    w = Warp(magnitude=0.3, p=1.0)
    tilt = torch.tensor([[0.2, -0.1], [0.0, 0.0]])
    m = w.matrix(tilt, (8, 8), (8, 8))
    corners = torch.tensor([[-1.0, -1.0, 1.0], [1.0, -1.0, 1.0], [1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]])
    mapped = corners @ m[0].T
    mapped = mapped[:, :2] / mapped[:, 2:]
    expected = torch.tensor([[-1.1, -0.8], [1.1, -1.2], [0.9, 1.2], [-0.9, 0.8]])
    torch.testing.assert_close(mapped, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(m[1], torch.eye(3), atol=1e-6, rtol=0)


def test_dihedral_gives_the_eight_symmetries_of_the_square():
    x = TensorImage(torch.rand(1, 1, 5, 5))
    d = Dihedral(p=1.0)
    plain = x.as_subclass(torch.Tensor)
    outs = [
        d.apply(x, d.matrix(torch.tensor([k]), (5, 5), (5, 5))).as_subclass(torch.Tensor) for k in range(8)
    ]
    expected = [torch.rot90(f, k, (-2, -1)) for f in (plain, plain.flip(-1)) for k in range(4)]
    for e in expected:
        assert sum(torch.allclose(o, e, atol=1e-6) for o in outs) == 1


def test_boxes_are_moved_clipped_and_emptied_with_their_labels():
    boxes = torch.tensor([[[-0.8, -0.8, -0.4, -0.2], [-0.2, 0.1, 0.6, 0.5], [0.0, 0.0, 0.0, 0.0]]])
    bbox, labels = TensorBBox(boxes, img_size=(10, 10)), torch.tensor([[1, 2, 0]])
    img = TensorImage(torch.rand(1, 3, 10, 10))
    f = Flip(p=1.0)
    _, fb, fl = f.apply((img, bbox, labels), f.matrix(torch.ones(1), (10, 10), (10, 10)))
    torch.testing.assert_close(fb[0, 1], torch.tensor([-0.6, 0.1, 0.2, 0.5]))
    assert fl.tolist() == [[1, 2, 0]]
    z = Zoom(p=1.0)  # zoom 2x on the bottom-right quarter: box 0 leaves, box 1 is clipped
    _, zb, zl = z.apply((img, bbox, labels), z.matrix(torch.tensor([[2.0, 1.0, 1.0]]), (10, 10), (10, 10)))
    assert type(zb) is TensorBBox and zb.img_size == (10, 10)
    assert zb[0, 0].tolist() == [0.0, 0.0, 0.0, 0.0] and zl.tolist() == [[0, 2, 0]]
    torch.testing.assert_close(zb[0, 1], torch.tensor([-1.0, -0.8, 0.2, 0.0]), atol=1e-5, rtol=0)
    assert zb[0, 2].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_random_resized_crop_resizes_and_its_validation_version_centre_crops():
    x = gradient(n=2, c=3, h=24, w=32)
    crop = RandomResizedCropGPU(16, min_scale=0.5)
    set_seed(1)
    y = crop(x, split_idx=0)
    assert y.shape == (2, 3, 16, 16) and type(y) is TensorImage
    valid = crop.for_validation()
    assert valid.split_idx == 1 and Pipeline([crop], split_idx=1)(x) is x
    v = Pipeline([crop, valid], split_idx=1)(x)
    expected = F.interpolate(x.as_subclass(torch.Tensor)[..., 4:28], size=(16, 16), mode="bilinear")
    torch.testing.assert_close(v.as_subclass(torch.Tensor), expected, atol=1e-5, rtol=0)


def test_resize_updates_the_img_size_of_points():
    pts = TensorPoint(torch.tensor([[[0.5, -0.5]]]), img_size=(32, 24))
    tfm = AffineCoordTfm(size=(12, 16), align_corners=False)
    img, out = tfm((TensorImage(torch.rand(1, 3, 24, 32)), pts), split_idx=0)
    assert img.shape == (1, 3, 12, 16) and out.img_size == (16, 12)
    torch.testing.assert_close(out.as_subclass(torch.Tensor), pts.as_subclass(torch.Tensor))


def test_bad_batches_raise_clear_errors():
    with pytest.raises(VisionError, match="IntToFloatTensor"):
        Flip(p=1.0)(TensorImage(torch.zeros(1, 3, 4, 4, dtype=torch.uint8)), split_idx=0)
    with pytest.raises(VisionError, match="expects a batch"):
        Flip(p=1.0)(TensorImage(torch.rand(3, 4, 4)), split_idx=0)
    with pytest.raises(VisionError, match="probability"):
        Rotate(p=1.5)
    with pytest.raises(VisionError, match="different"):
        Rotate(pad_mode="zeros").compose(Zoom())
