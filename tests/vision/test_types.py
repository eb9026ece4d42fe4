import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from layered.core.tensor_types import retain_type
from layered.data.collation import collate
from layered.vision.errors import VisionError
from layered.vision.types import (
    LabeledBBox,
    PILImage,
    PILImageBW,
    PILMask,
    TensorBBox,
    TensorImage,
    TensorMask,
    TensorPoint,
    source_of,
)


def test_pil_create_from_array_tensor_and_file(tmp_path):
    a = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    im = PILImage.create(a)
    assert isinstance(im, PILImage) and im.mode == "RGB" and im.size == (6, 5) and im.shape == (5, 6)
    assert np.array_equal(np.asarray(im), a)
    from_tensor = PILImage.create(torch.from_numpy(a).permute(2, 0, 1))
    assert np.array_equal(np.asarray(from_tensor), a)
    Image.fromarray(a).save(tmp_path / "x.png")
    read = PILImage.create(tmp_path / "x.png")
    assert np.array_equal(np.asarray(read), a) and source_of(read) == str(tmp_path / "x.png")
    bw = PILImageBW.create(tmp_path / "x.png")
    assert bw.mode == "L" and isinstance(bw, PILImageBW)
    with pytest.raises(VisionError, match="expected a path"):
        PILImage.create(3.5)


def test_pil_type_survives_pil_operations_through_retain_type():
    im = PILImage.create(np.zeros((4, 4, 3), np.uint8))
    resized = im.resize((2, 2))
    assert type(resized) is Image.Image
    assert type(retain_type(resized, im)) is PILImage


def test_mask_keeps_values_and_rejects_colour():
    m = PILMask.create(np.array([[0, 1], [2, 7]]))
    assert m.mode == "L" and np.asarray(m).tolist() == [[0, 1], [2, 7]]
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[0, 0] = (255, 0, 0)
    with pytest.raises(VisionError, match="colour image"):
        PILMask.create(Image.fromarray(colour))


def test_tensor_types_survive_ops_collate_and_pickle():
    x = TensorImage(torch.zeros(3, 4, 4, dtype=torch.uint8))
    assert type(x.float() / 255) is TensorImage
    batch = collate([(x, TensorMask(torch.zeros(4, 4).long()))] * 2)
    assert type(batch[0]) is TensorImage and batch[0].shape == (2, 3, 4, 4)
    assert type(batch[1]) is TensorMask and batch[1].shape == (2, 4, 4)
    p = TensorPoint.from_pixels([[1, 2]], img_size=(4, 8))
    back = pickle.loads(pickle.dumps(p))
    assert type(back) is TensorPoint and back.img_size == (4, 8)


def test_points_scale_to_minus_one_one_and_back():
    p = TensorPoint.from_pixels([[0, 0], [64, 48], [32, 12]], img_size=(64, 48))
    assert torch.allclose(p, torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, -0.5]]))
    assert p.img_size == (64, 48)
    assert torch.allclose(p.to_pixels(), torch.tensor([[0.0, 0.0], [64.0, 48.0], [32.0, 12.0]]))
    assert (p * 2).img_size == (64, 48) and type(p * 2) is TensorPoint


def test_point_outside_and_flipped_box_name_the_source():
    with pytest.raises(VisionError, match=r"cat\.jpg is outside its 10x10 image"):
        TensorPoint.from_pixels([[5, 5], [11, 2]], img_size=(10, 10), source="cat.jpg")
    with pytest.raises(VisionError, match=r"dog\.jpg has x2 < x1"):
        TensorBBox.from_pixels([[8, 1, 2, 5]], img_size=(10, 10), source="dog.jpg")
    with pytest.raises(VisionError, match="rows of 4"):
        TensorBBox.create([1, 2, 3])


def test_bbox_and_labeled_bbox():
    b = TensorBBox.from_pixels([[0, 0, 5, 10]], img_size=(10, 10))
    assert b.tolist() == [[-1.0, -1.0, 0.0, 1.0]]
    lb = LabeledBBox(b, ["cat"])
    assert lb.bbox is b and lb.lbl == ["cat"]


def test_vision_targets_are_registered_for_the_default_loss():
    from types import SimpleNamespace

    from layered.train.losses.default import default_loss
    from layered.train.losses.flattened import CrossEntropyLossFlat, MSELossFlat

    def dls_with(target):
        return SimpleNamespace(train=SimpleNamespace(dataset=[(torch.zeros(3, 4, 4), target)]), n_inp=1)

    mask_loss = default_loss(dls_with(TensorMask(torch.zeros(4, 4, dtype=torch.long))))
    assert isinstance(mask_loss, CrossEntropyLossFlat) and mask_loss.axis == 1
    pil_mask_loss = default_loss(dls_with(PILMask.create(np.zeros((4, 4), np.uint8))))
    assert isinstance(pil_mask_loss, CrossEntropyLossFlat) and pil_mask_loss.axis == 1
    assert isinstance(default_loss(dls_with(TensorPoint(torch.zeros(1, 2)))), MSELossFlat)


def test_pil_create_converts_each_dtype_by_its_rule_or_names_it():
    from layered.vision.errors import VisionError

    assert np.asarray(PILImage.create(np.array([[0, 200]], dtype=np.int64))).max() == 200
    assert np.asarray(PILImage.create(np.array([[True, False]])))[0, 0].tolist() == [255, 255, 255]
    assert np.asarray(PILImage.create(np.array([[0.0, 1.0]], dtype=np.float32)))[0, 1].tolist() == [255] * 3
    bad = {
        "int32 array has values 0..4000": np.array([[0, 4000]], dtype=np.int32),
        "NaN or infinite": np.array([[0.5, np.nan]]),
        "dtype object": np.array([[object(), object()]], dtype=object),
        "is empty": np.zeros((0, 4), dtype=np.uint8),
    }
    for message, a in bad.items():
        with pytest.raises(VisionError, match=message):
            PILImage.create(a)
