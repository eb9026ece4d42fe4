"""Tests of drawing."""

import matplotlib
import numpy as np
import torch

from layered.vision.drawing import show_image, show_images
from layered.vision.types import PILImage, TensorImage, TensorMask, TensorPoint

matplotlib.use("Agg")


def test_show_image_draws_pixels_of_pil_and_tensors():
    a = np.zeros((4, 6, 3), np.uint8)
    a[0, 0] = (255, 0, 0)
    ax = show_image(PILImage.create(a), title="red corner")
    assert ax.get_title() == "red corner"
    assert ax.get_images()[0].get_array()[0, 0].tolist() == [255, 0, 0]
    t = TensorImage(torch.from_numpy(a).permute(2, 0, 1))
    assert t.show().get_images()[0].get_array().shape == (4, 6, 3)
    axs = show_images([a, a, a], nrows=1, titles=["x", "y", "z"])
    assert [ax.get_title() for ax in axs] == ["x", "y", "z"] and len(axs[0].figure.axes) == 3


def test_mask_is_overlaid_with_transparency():
    ax = show_image(np.zeros((4, 4, 3), np.uint8))
    TensorMask(torch.tensor([[0, 1], [1, 0]])).show(ctx=ax)
    assert len(ax.get_images()) == 2 and ax.get_images()[1].get_alpha() == 0.5


def test_points_drawn_at_their_pixels():
    ax = show_image(np.zeros((10, 20, 3), np.uint8))
    TensorPoint.from_pixels([[10.5, 5.5]], img_size=(20, 10)).show(ctx=ax)
    assert ax.collections[0].get_offsets().tolist() == [[10.0, 5.0]]  # pixel (10, 5) centre
