"""Tiny generation data and GAN learners for the GAN tests: 8×8 greyscale images, noise of 4 numbers."""

import numpy as np
import pytest
from PIL import Image

from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.vision.blocks import ImageBlock
from layered.vision.gan.data import NoiseBlock, TanhRange
from layered.vision.gan.learner import GANLearner
from layered.vision.gan.models import basic_critic, basic_generator
from layered.vision.image_io import get_image_files
from layered.vision.types import PILImageBW

NOISE = 4


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """80 8×8 greyscale PNGs: a bright square at a random place on black."""
    folder = tmp_path_factory.mktemp("gan_images")
    rng = np.random.default_rng(0)
    for i in range(80):
        img = np.zeros((8, 8), dtype=np.uint8)
        r, c = rng.integers(0, 5, size=2)
        img[r : r + 3, c : c + 3] = 255
        Image.fromarray(img, mode="L").save(folder / f"{i}.png")
    return folder


@pytest.fixture
def gan_dls(image_folder):
    """Noise and real images, 72 training items in 9 batches of 8, 8 for validation."""
    dblock = DataBlock(
        blocks=(NoiseBlock(NOISE), ImageBlock(PILImageBW)),
        get_items=get_image_files,
        splitter=RandomSplitter(0.1, seed=0),
        batch_tfms=TanhRange(),
    )
    return dblock.dataloaders(image_folder, bs=8)


def _tiny_nets(norm_type="batch"):
    """A generator of 8×8 images from 4 numbers and a critic of 8×8 images, a few hundred weights each."""
    from layered.train.nn.conv import NormType

    norm = NormType.Batch if norm_type == "batch" else None
    return basic_generator(8, 1, NOISE, n_features=4), basic_critic(8, 1, n_features=4, norm_type=norm)


@pytest.fixture
def tiny_nets():
    """`tiny_nets(norm_type="batch")`: a fresh tiny generator and critic (norm_type None: no batch norm)."""
    return _tiny_nets


@pytest.fixture
def standard_learn(gan_dls, tmp_path):
    """A standard GAN learner on the tiny data, writing under `tmp_path`."""
    gen, crit = _tiny_nets()
    return GANLearner.standard(gan_dls, gen, crit, path=tmp_path)
