import random

import numpy as np
import pytest
import torch
from PIL import Image

from layered.data.categorize import TensorMultiCategory
from layered.data.data_block import DataBlock
from layered.data.errors import DataError
from layered.data.splitters import RandomSplitter
from layered.vision.blocks import (
    BBoxBlock,
    BBoxLblBlock,
    ImageBlock,
    MaskBlock,
    PointBlock,
    bb_pad,
    clip_remove_empty,
)
from layered.vision.errors import VisionError
from layered.vision.item_transforms import Resize
from layered.vision.types import PILImageBW, TensorBBox, TensorImage, TensorImageBW, TensorMask, TensorPoint


@pytest.fixture
def seg_files(tmp_path):
    """Images whose left part is white, masks marking that part 1; sizes vary."""
    files = []
    for i in range(6):
        w = 30 + 2 * i
        a = np.zeros((20, w, 3), np.uint8)
        a[:, : w // 2] = 255
        Image.fromarray(a).save(tmp_path / f"{i}.png")
        Image.fromarray((a[..., 0] > 0).astype(np.uint8)).save(tmp_path / f"{i}_m.png")
        files.append(tmp_path / f"{i}.png")
    return files


def _mask_of(f):
    return f.with_name(f"{f.stem}_m.png")


def test_image_mask_batch_keeps_types_and_the_same_crop(seg_files):
    random.seed(0)
    dblock = DataBlock(
        blocks=(ImageBlock, MaskBlock(codes=["bg", "fg"])),
        get_y=_mask_of,
        splitter=RandomSplitter(0.34, seed=0),
        item_tfms=Resize(12),
    )
    dls = dblock.dataloaders(seg_files, bs=4)
    for dl in (dls.train, dls.valid):
        x, y = dl.one_batch()
        assert type(x) is TensorImage and x.dtype == torch.float32 and x.shape[1:] == (3, 12, 12)
        assert type(y) is TensorMask and y.dtype == torch.long and y.shape[1:] == (12, 12)
        # white pixels and mask 1 line up exactly wherever the crop fell (edge pixels blend)
        agree = ((x[:, 0] > 0.5).long() == y).float().mean()
        assert agree > 0.95
    decoded = dls.valid.decode_batch(dls.valid.one_batch(), max_n=1)[0]
    assert decoded[1].codes == ["bg", "fg"]


def test_mask_of_another_size_is_an_error_naming_both_files(seg_files, tmp_path):
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(_mask_of(seg_files[0]))
    dblock = DataBlock(blocks=(ImageBlock, MaskBlock()), get_y=_mask_of, splitter=RandomSplitter(0.5, seed=0))
    with pytest.raises(DataError, match=r"0_m\.png is 5x5 but its image .*0\.png is 30x20"):
        dblock.dataloaders(seg_files[:1] * 4, bs=2)


def test_greyscale_image_block(seg_files):
    dblock = DataBlock(blocks=(ImageBlock(PILImageBW), MaskBlock()), get_y=_mask_of, item_tfms=Resize(8))
    x, _ = dblock.dataloaders(seg_files, bs=2).train.one_batch()
    assert type(x) is TensorImageBW and x.shape == (2, 1, 8, 8)
    with pytest.raises(VisionError, match="PILBase subclass"):
        ImageBlock(int)


def test_points_follow_resize_and_decode_to_pixels(seg_files):
    dblock = DataBlock(
        blocks=(ImageBlock, PointBlock),
        get_y=lambda f: [[10, 10], [0, 20]],
        splitter=RandomSplitter(0.5, seed=0),
        item_tfms=Resize(10, method="squish"),
    )
    dls = dblock.dataloaders(seg_files, bs=3)
    x, y = dls.valid.one_batch()
    assert type(y) is TensorPoint and y.shape == (3, 2, 2)
    w = torch.tensor([float(Image.open(f).size[0]) for f in dls.valid_ds.items])
    assert torch.allclose(y[:, 0, 0], 20 / w - 1, atol=1e-5)  # x = 10 of w pixels
    assert torch.allclose(y[:, 1], torch.tensor([-1.0, 1.0]))
    _, pts = dls.valid.decode_batch((x, y), max_n=1)[0]
    assert pts.img_size == (10, 10)
    assert torch.allclose(pts.to_pixels()[1], torch.tensor([0.0, 10.0]))


def test_point_outside_the_image_fails_naming_the_file(seg_files):
    dblock = DataBlock(blocks=(ImageBlock, PointBlock), get_y=lambda f: [[100, 5]], item_tfms=Resize(8))
    with pytest.raises(DataError, match=r"\.png is outside its"):
        dblock.dataloaders(seg_files, bs=2)


def test_boxes_pad_to_the_largest_count_with_labels(seg_files):
    n_boxes = {f: i % 3 + 1 for i, f in enumerate(seg_files)}
    dblock = DataBlock(
        blocks=(ImageBlock, BBoxBlock, BBoxLblBlock),
        get_y=[lambda f: [[2, 2, 12, 12]] * n_boxes[f], lambda f: ["cat", "dog", "cat"][: n_boxes[f]]],
        splitter=RandomSplitter(0.34, seed=0),
        item_tfms=Resize(16, method="squish"),  # no crop: every box stays
        n_inp=1,
    )
    dls = dblock.dataloaders(seg_files, bs=4, shuffle_train=False)
    x, boxes, labels = dls.train.one_batch()
    counts = [n_boxes[f] for f in dls.train_ds.items[:4]]
    assert type(boxes) is TensorBBox and boxes.shape == (4, max(counts), 4)
    assert type(labels) is TensorMultiCategory
    assert [int((row > 0).sum()) for row in labels] == counts  # 0 is the #na# padding
    assert dls.train_ds.tls[2].tfms.fs[-1].vocab[0] == "#na#"
    _, _, lbls = dls.train.decode_batch((x, boxes, labels), max_n=1)[0]
    assert list(lbls)[: counts[0]] == ["cat", "dog", "cat"][: counts[0]]


def test_bb_pad_removes_empty_boxes_with_their_labels():
    b1 = TensorBBox(torch.tensor([[-0.5, -0.5, 0.5, 0.5], [0.2, 0.2, 0.2, 0.9]]))
    l1 = TensorMultiCategory(torch.tensor([1, 2]))
    b2 = TensorBBox(torch.tensor([[-2.0, -2.0, 0.0, 0.0]]))
    l2 = TensorMultiCategory(torch.tensor([3]))
    out = bb_pad([("img", b1, l1), ("img", b2, l2)])
    assert out[0][1].tolist() == [[-0.5, -0.5, 0.5, 0.5]] and out[0][2].tolist() == [1]
    assert out[1][1].tolist() == [[-1.0, -1.0, 0.0, 0.0]]  # clipped
    assert type(out[0][1]) is TensorBBox
    with pytest.raises(VisionError, match="2 boxes but 1 labels"):
        clip_remove_empty(b1, l2)
