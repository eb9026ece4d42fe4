import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.learner import load_learner
from layered.vision.blocks import ImageBlock
from layered.vision.errors import VisionError
from layered.vision.gan.data import TanhRange
from layered.vision.gan.learner import GANLearner, unet_gan_learner
from layered.vision.gan.losses import GANLoss, PixelAdversarialLoss, wgan_critic_loss, wgan_generator_loss
from layered.vision.gan.models import GANModule
from layered.vision.gan.switchers import AdaptiveGANSwitcher, FixedGANSwitcher
from layered.vision.image_io import get_image_files
from layered.vision.types import TensorImage, TensorImageBW
from layered.vision.unet import DynamicUnet

matplotlib.use("Agg")


def test_a_gan_learner_exports_and_loads_back_generating(standard_learn):
    with standard_learn.no_logging():
        standard_learn.fit(1, 1e-3)
    loaded = load_learner(standard_learn.export("gan.safetensors"))
    assert type(loaded) is GANLearner
    assert loaded.model.gen_mode and isinstance(loaded.loss_func, GANLoss)
    assert loaded.loss_func.gan_model is loaded.model
    for live, new in zip(standard_learn.model.state_dict().values(), loaded.model.state_dict().values()):
        assert torch.equal(live, new)
    torch.manual_seed(3)
    image, _, raw = standard_learn.predict("any item")
    torch.manual_seed(3)
    image2, _, raw2 = loaded.predict("any item")
    assert isinstance(image, TensorImageBW) and image.shape == (1, 8, 8)
    assert torch.equal(raw, raw2) and torch.equal(image, image2)
    # the decoded sample is back in [0, 1] pixels, the raw output in the generator's [-1, 1]
    pixels = ((raw + 1) / 2 * 255).as_subclass(torch.Tensor)
    assert (image.as_subclass(torch.Tensor).float() - pixels).abs().max() <= 1.0
    torch.manual_seed(4)
    _, _, other = loaded.predict("any item")
    assert not torch.equal(other, raw)  # each prediction draws a new sample


def test_show_results_draws_generated_samples(standard_learn):
    import matplotlib.pyplot as plt

    with standard_learn.no_logging():
        standard_learn.fit(1, 1e-3)
    axes = standard_learn.show_results(max_n=4)
    assert len(axes) == 4
    drawn = [ax.images[0].get_array() for ax in axes]
    assert all(a.shape == (8, 8) for a in drawn)
    # different noise, different samples
    assert not np.array_equal(np.asarray(drawn[0]), np.asarray(drawn[1]))
    plt.close("all")


def test_wgan_constructor_trains_the_critic_five_times_as_often(gan_dls, tmp_path, tiny_nets):
    learn = GANLearner.wgan(gan_dls, *tiny_nets(), path=tmp_path)
    assert isinstance(learn.fixed_gan_switcher, FixedGANSwitcher)
    assert (learn.fixed_gan_switcher.n_crit, learn.fixed_gan_switcher.n_gen) == (5, 1)
    assert learn.gan_trainer.clip == 0.01
    assert learn.loss_func.gen_loss_func is wgan_generator_loss
    assert learn.loss_func.crit_loss_func is wgan_critic_loss


def test_gan_learner_refuses_parts_that_are_not_a_gan(gan_dls, tiny_nets):
    gen, crit = tiny_nets()
    with pytest.raises(VisionError, match="expected a GANModule"):
        GANLearner(gan_dls, gen, GANLoss(wgan_generator_loss, wgan_critic_loss))
    with pytest.raises(VisionError, match="expected a GANLoss"):
        GANLearner(gan_dls, GANModule(gen, crit), nn.MSELoss())


@pytest.fixture(scope="module")
def pair_folder(tmp_path_factory):
    """16×16 RGB pairs: `in_<n>.png` a darkened copy of `out_<n>.png`."""
    folder = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    for i in range(16):
        out = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(out).save(folder / f"out_{i}.png")
        Image.fromarray(out // 2).save(folder / f"in_{i}.png")
    return folder


def _target(path):
    return path.with_name(path.name.replace("in_", "out_"))


def tiny_classifier(pretrained=False):
    """A two-conv classifier: its body (before the pooling) becomes the U-Net's encoder."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 2),
    )


def test_unet_gan_learner_trains_a_dynamic_unet_against_a_patch_critic(pair_folder, tmp_path):
    dblock = DataBlock(
        blocks=(ImageBlock, ImageBlock),
        get_items=lambda p: [f for f in get_image_files(p) if f.name.startswith("in_")],
        get_y=_target,
        splitter=RandomSplitter(0.25, seed=0),
        batch_tfms=TanhRange(),
    )
    dls = dblock.dataloaders(pair_folder, bs=4)
    learn = unet_gan_learner(dls, tiny_classifier, pretrained=False, y_range=(-1.0, 1.0), path=tmp_path)
    assert isinstance(learn.model.generator, DynamicUnet)
    assert isinstance(learn.loss_func.gen_loss_func, PixelAdversarialLoss)
    assert isinstance(learn.adaptive_gan_switcher, AdaptiveGANSwitcher)
    with learn.no_logging():
        learn.fit(1, 1e-3)
    assert learn.gan_trainer.n_gen_steps >= 1 and learn.gan_trainer.n_crit_steps >= 1
    x, y = dls.one_batch()
    with torch.no_grad():
        out = learn.model(x)  # generator mode after fit: an image per input, in the target's range
    assert out.shape == y.shape and float(out.abs().max()) <= 1.0
    image, _, _ = learn.predict(pair_folder / "in_0.png")
    assert isinstance(image, TensorImage) and image.shape == (3, 16, 16)
