"""RatioResize: the aspect kept, the longest or shortest side at the size, on every split."""

import numpy as np
import pytest
import torch

from layered.core.pipeline import Pipeline
from layered.vision.errors import VisionError
from layered.vision.item_transforms import CropPad, ImageToTensor, PointScaler, RatioResize
from layered.vision.types import PILImage, PILMask, TensorBBox, TensorPoint


def _item(w=60, h=40):
    """An image whose red channel is the column index, a mask equal to column // 10, a point and a box."""
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    img = PILImage.create(np.stack([cols, rows, np.zeros_like(cols)], -1).astype(np.uint8))
    mask = PILMask.create((cols // 10).astype(np.uint8))
    return img, mask, TensorPoint.create([[30, 20], [0, 0]]), TensorBBox.create([[10, 10, 50, 30]])


def _run(tfms, item, split_idx):
    return Pipeline([PointScaler(), *tfms, ImageToTensor()], split_idx=split_idx)(item)


@pytest.mark.parametrize("split_idx", [0, 1])
def test_the_longest_side_goes_to_the_size_on_training_and_validation(split_idx):
    img, mask, pts, box = _run([RatioResize(30)], _item(), split_idx)
    assert img.shape == (3, 20, 30) and mask.shape == (20, 30)
    # the whole image is kept: the red channel still spans the 60 columns, the mask all 6 codes
    assert img[0, 10, 0] <= 1 and img[0, 10, -1] >= 58
    assert sorted(mask.unique().tolist()) == [0, 1, 2, 3, 4, 5]
    assert torch.equal(mask[0], torch.arange(30) * 2 // 10)  # nearest neighbour: codes, never blends
    assert torch.allclose(pts, torch.tensor([[0.0, 0.0], [-1.0, -1.0]])) and pts.img_size == (30, 20)
    assert torch.allclose(box, torch.tensor([[-2 / 3, -0.5, 2 / 3, 0.5]])) and box.img_size == (30, 20)


def test_the_shortest_side_and_odd_aspects_round_to_whole_pixels():
    img, mask, _, _ = _run([RatioResize(30, side="shortest")], _item(), 1)
    assert img.shape == (3, 30, 45) and mask.shape == (30, 45)
    tall = _run([RatioResize(10)], _item(w=7, h=30)[:2], 1)[0]
    assert tall.shape == (3, 10, 2)  # 7 * 10/30 = 2.33 -> 2
    assert _run([RatioResize(4)], _item(w=100, h=1)[:2], 1)[0].shape == (3, 1, 4)  # never below one pixel


def test_followed_by_crop_pad_it_makes_batchable_squares_without_distortion():
    img, mask, _, _ = _run([RatioResize(30), CropPad(30)], _item(), 1)
    assert img.shape == (3, 30, 30) and mask.shape == (30, 30)
    assert (img[:, :5] == 0).all() and (img[:, -5:] == 0).all()  # padded above and below the 20 rows
    assert RatioResize(30).serving_step()["step"] == "resize keeping the aspect, the longest side to size"


def test_bad_settings_are_named():
    with pytest.raises(VisionError, match=r"RatioResize: size \(30, 20\); expected a positive int"):
        RatioResize((30, 20))
    with pytest.raises(VisionError, match="RatioResize: size 0"):
        RatioResize(0)
    with pytest.raises(
        VisionError, match=r"RatioResize: side 'long'; expected one of \('longest', 'shortest'\)"
    ):
        RatioResize(30, side="long")
