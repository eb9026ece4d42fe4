import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from PIL import Image

from layered.data.categorize import Category
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.vision.blocks import BBoxBlock, BBoxLblBlock, ImageBlock, MaskBlock, PointBlock
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.item_transforms import Resize
from layered.vision.show import show_batch, show_results


@pytest.fixture
def files(tmp_path):
    out = []
    for i in range(6):
        a = np.zeros((16, 16, 3), np.uint8)
        a[:, :8] = 255 if i % 2 else 60
        Image.fromarray(a).save(tmp_path / f"{i}.png")
        Image.fromarray((a[..., 0] == 255).astype(np.uint8)).save(tmp_path / f"{i}_m.png")
        out.append(tmp_path / f"{i}.png")
    return out


def test_show_batch_classification_grid_with_titles(files):
    dls = ImageDataLoaders.from_name_func(
        files[0].parent,
        files,
        lambda n: "odd" if int(n[0]) % 2 else "even",
        item_tfms=Resize(8),
        bs=4,
        seed=0,
    )
    b = dls.train.one_batch()
    axs = dls.train.show_batch(b, max_n=4)
    assert len(axs) == 4 and len(axs[0].figure.axes) == 4
    assert [ax.get_title() for ax in axs] == [dls.vocab[int(i)] for i in b[1]]
    for ax in axs:  # the decoded uint8 image is drawn: odd ones are white on the left
        pixels = ax.get_images()[0].get_array()
        assert pixels.dtype == np.uint8 and (pixels[:, 0].mean() > 200) == (ax.get_title() == "odd")


def test_show_results_marks_wrong_predictions_red(files):
    dls = ImageDataLoaders.from_name_func(
        files[0].parent,
        files,
        lambda n: "odd" if int(n[0]) % 2 else "even",
        item_tfms=Resize(8),
        bs=4,
        seed=0,
    )
    b = dls.train.one_batch()
    preds = torch.zeros(4, dtype=torch.long)  # always the first class
    axs = dls.train.show_results(b, preds, max_n=4)
    for ax, target in zip(axs, b[1].tolist()):
        assert ax.title.get_color() == ("green" if target == 0 else "red")
        assert ax.get_title().endswith(f"/ {dls.vocab[0]}")


def test_show_batch_and_results_for_masks_points_and_boxes(files):
    seg = DataBlock(
        blocks=(ImageBlock, MaskBlock(["bg", "fg"])),
        get_y=lambda f: f.with_name(f"{f.stem}_m.png"),
        splitter=RandomSplitter(0.34, seed=0),
        item_tfms=Resize(8),
    ).dataloaders(files, bs=2)
    axs = seg.train.show_batch(max_n=2)
    assert [len(ax.get_images()) for ax in axs] == [2, 2]  # image, then the mask over it
    b = seg.valid.one_batch()
    axs = seg.valid.show_results(b, torch.zeros_like(b[1]), max_n=2)
    assert [ax.get_title() for ax in axs] == ["target", "prediction"] * 2
    pts = DataBlock(
        blocks=(ImageBlock, PointBlock), get_y=lambda f: [[4, 4], [12, 12]], item_tfms=Resize(8)
    ).dataloaders(files, bs=2)
    axs = pts.train.show_batch(max_n=2)
    assert axs[0].collections[0].get_offsets().tolist() == [[1.5, 1.5], [5.5, 5.5]]
    boxes = DataBlock(
        blocks=(ImageBlock, BBoxBlock, BBoxLblBlock),
        get_y=[lambda f: [[2, 2, 6, 6], [8, 8, 14, 14]], lambda f: ["cat", "dog"]],
        item_tfms=Resize(16),
        n_inp=1,
    ).dataloaders(files, bs=2)
    axs = boxes.train.show_batch(max_n=2)
    assert len(axs[0].patches) == 2 and [t.get_text() for t in axs[0].texts] == ["cat", "dog"]


def test_other_inputs_keep_the_generic_table():
    frame = show_batch(torch.zeros(2, 3), None, [(Category("a"),), (Category("b"),)])
    assert frame["item_0"].tolist() == ["a", "b"]
    frame = show_results(torch.zeros(2, 3), None, [(Category("a"),)], [(Category("b"),)])
    assert frame.iloc[0].tolist() == ["a", "b"]
