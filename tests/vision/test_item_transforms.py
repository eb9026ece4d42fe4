import random

import numpy as np
import pytest
import torch

from layered.core.pipeline import Pipeline
from layered.vision.errors import VisionError
from layered.vision.item_transforms import (
    CheckMaskSize,
    CropPad,
    ImageToTensor,
    IntToFloatTensor,
    PointScaler,
    RandomCrop,
    RandomResizedCrop,
    Resize,
)
from layered.vision.types import (
    PILImage,
    PILImageBW,
    PILMask,
    TensorBBox,
    TensorImage,
    TensorImageBW,
    TensorMask,
    TensorPoint,
)


def _item(w=60, h=40):
    """An image whose red channel is the column index and green the row index, a mask equal to the column // 10."""
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    img = PILImage.create(np.stack([cols, rows, np.zeros_like(cols)], -1).astype(np.uint8))
    mask = PILMask.create((cols // 10).astype(np.uint8))
    pts = TensorPoint.create([[30, 20], [0, 0], [60, 40]])
    box = TensorBBox.create([[10, 10, 50, 30]])
    return img, mask, pts, box


def _run(tfms, item, split_idx):
    return Pipeline([PointScaler(), *tfms, ImageToTensor()], split_idx=split_idx)(item)


def test_resize_crop_is_centred_on_validation_and_the_same_on_every_part():
    img, mask, pts, box = _run([Resize(20)], _item(), split_idx=1)
    assert type(img) is TensorImage and img.shape == (3, 20, 20) and img.dtype == torch.uint8
    assert type(mask) is TensorMask and mask.shape == (20, 20) and mask.dtype == torch.long
    # centre crop of 40x40 from columns 10..50: red channel spans about 11..49
    assert 10 <= img[0, :, 0].float().mean() <= 12 and 48 <= img[0, :, -1].float().mean() <= 50
    assert mask[0].tolist() == (np.arange(20) * 2 + 10 + 1).clip(0, 59).__floordiv__(10).tolist()
    assert torch.allclose(pts, torch.tensor([[0.0, 0.0], [-1.5, -1.0], [1.5, 1.0]]))
    assert pts.img_size == (20, 20)
    assert torch.allclose(box, torch.tensor([[-1.0, -0.5, 1.0, 0.5]]))  # clipped at the crop's edge


def test_resize_crop_is_random_on_training_and_consistent():
    random.seed(0)
    offsets = set()
    for _ in range(8):
        img, mask, pts, _ = _run([Resize(20)], _item(), split_idx=0)
        left = img[0, 0, 0].item()  # column where the crop starts
        offsets.add(left // 2)
        assert abs(int(mask[0, 0]) - left // 10) <= 1  # the mask was cut at the same place
        # the centre pixel (30, 20) sits where the point says, in the crop's pixels
        px = pts.to_pixels()[0]
        assert abs(img[0, 10, int(px[0].clamp(0, 19))].item() - 30) <= 2
    assert len(offsets) > 1


def test_resize_pad_and_squish():
    img, _, pts, _ = _run([Resize((40, 40), method="pad")], _item(), split_idx=0)
    assert img.shape == (3, 40, 40)
    assert img[:, :6].sum() == 0 and img[:, -6:].sum() == 0  # 10 of 60 source rows padded: 6.7 of 40
    assert torch.allclose(pts[1:], torch.tensor([[-1.0, -2 / 3], [1.0, 2 / 3]]), atol=1e-5)
    refl = Resize((40, 40), method="pad", pad_mode="reflection")(_item()[0])
    assert np.asarray(refl)[:6].sum() > 0
    img, _, pts, _ = _run([Resize(10, method="squish")], _item(), split_idx=0)
    assert img.shape == (3, 10, 10)
    assert torch.allclose(pts[1:], torch.tensor([[-1.0, -1.0], [1.0, 1.0]]))  # corners stay corners


def test_croppad_and_randomcrop_do_not_resample():
    img = _item()[0]
    out = np.asarray(CropPad(20)(img))
    assert out.shape == (20, 20, 3) and out[0, :, 0].tolist() == list(range(20, 40))
    padded = np.asarray(CropPad((50, 70), pad_mode="border")(img))
    assert padded.shape == (50, 70, 3) and padded[0, 0, 0] == 0 and padded[0, -1, 0] == 59
    random.seed(1)
    crops = [Pipeline([RandomCrop(10)], split_idx=0)(img) for _ in range(5)]
    for c in crops:
        a = np.asarray(c)
        assert np.array_equal(np.diff(a[0, :, 0].astype(int)), np.ones(9))  # whole pixels, in order
    assert len({int(np.asarray(c)[0, 0, 0]) for c in crops}) > 1
    assert Pipeline([RandomCrop(10)], split_idx=1)(img).size == (10, 10)


def test_random_resized_crop_train_and_valid():
    random.seed(0)
    img, mask, pts, box = _run([RandomResizedCrop(16, min_scale=0.3)], _item(), split_idx=0)
    assert img.shape == (3, 16, 16) and mask.shape == (16, 16) and pts.img_size == (16, 16)
    assert (box.abs() <= 1).all()
    valid = _run([RandomResizedCrop(16)], _item(), split_idx=1)
    centred = _run([Resize(16)], _item(), split_idx=1)
    assert torch.equal(valid[0], centred[0])
    with pytest.raises(VisionError, match="min_scale"):
        RandomResizedCrop(16, min_scale=0)


def test_to_tensor_greyscale_and_int_to_float():
    bw = ImageToTensor()(PILImageBW.create(np.full((3, 4), 51, np.uint8)))
    assert type(bw) is TensorImageBW and bw.shape == (1, 3, 4)
    tfm = IntToFloatTensor()
    x = tfm(TensorImage(torch.full((1, 3, 2, 2), 51, dtype=torch.uint8)))
    assert type(x) is TensorImage and x.dtype == torch.float32 and torch.allclose(x, torch.tensor(0.2))
    m = tfm(TensorMask(torch.tensor([[1, 2]])))
    assert type(m) is TensorMask and m.tolist() == [[1, 2]]
    assert tfm.decode(x).dtype == torch.uint8 and int(tfm.decode(x)[0, 0, 0, 0]) == 51


def test_errors_mask_size_point_outside_and_order():
    img = _item()[0]
    img.info["source"] = "img.png"
    small = PILMask.create(np.zeros((5, 5), np.uint8))
    small.info["source"] = "mask.png"
    with pytest.raises(VisionError, match=r"mask mask\.png is 5x5 but its image img\.png is 60x40"):
        CheckMaskSize()((img, small))
    with pytest.raises(VisionError, match=r"img\.png is outside its 60x40 image"):
        PointScaler()((img, TensorPoint.create([[70, 5]])))
    with pytest.raises(VisionError, match="before ImageToTensor"):
        Resize(10)((ImageToTensor()(img),))
    with pytest.raises(VisionError, match="method"):
        Resize(10, method="zoom")
