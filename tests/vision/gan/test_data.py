import matplotlib
import pytest
import torch

from layered.vision.errors import VisionError
from layered.vision.gan.data import GenerateNoise, InvisibleTensor
from layered.vision.types import TensorImageBW

matplotlib.use("Agg")


def test_generate_noise_draws_a_fresh_vector_for_any_item():
    noise = GenerateNoise(5)
    a, b = noise("any item"), noise(3)
    assert isinstance(a, InvisibleTensor) and a.shape == (5,)
    assert not torch.equal(a, b)


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "8"])
def test_generate_noise_refuses_a_size_that_is_not_a_positive_int(size):
    with pytest.raises(VisionError, match="size must be a positive int"):
        GenerateNoise(size)


def test_a_generation_batch_is_noise_then_normalised_images(gan_dls):
    noise, real = gan_dls.one_batch()
    assert isinstance(noise, InvisibleTensor) and noise.shape == (8, 4)
    assert isinstance(real, TensorImageBW) and real.shape == (8, 1, 8, 8)
    assert real.min() == -1.0 and real.max() == 1.0  # black and white pixels scaled to [-1, 1]
    assert abs(float(noise.mean())) < 1.0


def test_show_batch_draws_the_real_images_only(gan_dls):
    import matplotlib.pyplot as plt

    axes = gan_dls.show_batch(max_n=4)
    assert len(axes) == 4
    assert all(len(ax.images) == 1 for ax in axes)  # one image per Axes, nothing for the noise
    assert InvisibleTensor(torch.zeros(2)).show(ctx=axes[0]) is axes[0]
    plt.close("all")
