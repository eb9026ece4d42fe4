import pytest
import torch
from torch import nn

from layered.train.nn.conv import NormType
from layered.vision.errors import VisionError
from layered.vision.gan.models import GANModule, basic_critic, basic_generator, dcgan_init, patch_critic


def test_basic_generator_makes_images_in_tanh_range():
    gen = basic_generator(16, 3, noise_size=10, n_features=8)
    out = gen(torch.randn(5, 10))
    assert out.shape == (5, 3, 16, 16)
    assert out.min() >= -1 and out.max() <= 1
    # the widest map is n_features * out_size / 8 channels wide, halved at each doubling
    assert [m[0].out_channels for m in gen if isinstance(m, nn.Sequential)] == [16, 8]


@pytest.mark.parametrize("size", [4, 12, 30, "32"])
def test_generator_and_critic_refuse_sizes_that_are_not_powers_of_two(size):
    with pytest.raises(VisionError, match="out_size must be a power of two"):
        basic_generator(size, 1)
    with pytest.raises(VisionError, match="in_size must be a power of two"):
        basic_critic(size, 1)


def test_basic_critic_gives_one_score_per_image():
    critic = basic_critic(16, 3, n_features=4)
    assert critic(torch.randn(6, 3, 16, 16)).shape == (6,)
    assert any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())


def test_a_critic_for_the_gradient_penalty_has_no_batch_norm():
    for norm in (None, NormType.Instance, NormType.Spectral):
        critic = basic_critic(8, 1, n_features=4, norm_type=norm)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())
        assert critic(torch.randn(2, 1, 8, 8)).shape == (2,)
    with pytest.raises(VisionError, match="norm_type must be one of"):
        basic_critic(8, 1, norm_type=NormType.Weight)


def test_patch_critic_scores_each_patch():
    critic = patch_critic(3, n_features=4, n_blocks=2)
    # two halvings: 16x16 images give 4x4 patches each
    assert critic(torch.randn(2, 3, 16, 16)).shape == (2 * 4 * 4,)


def test_gan_module_runs_the_network_its_mode_says():
    gen, critic = basic_generator(8, 1, 4, n_features=4), basic_critic(8, 1, n_features=4)
    model = GANModule(gen, critic)
    assert not model.gen_mode
    assert model(torch.randn(3, 1, 8, 8)).shape == (3,)
    model.switch()
    assert model.gen_mode
    fake = model(torch.randn(3, 4))
    assert fake.shape == (3, 1, 8, 8) and type(fake) is torch.Tensor
    model.switch(False)
    assert not model.gen_mode
    with pytest.raises(VisionError, match="critic is a str, expected an nn"):
        GANModule(gen, "critic")


_CONVS = (nn.Conv2d, nn.ConvTranspose2d)


@pytest.mark.parametrize("net", ["generator", "critic"])
def test_the_dcgan_pair_starts_from_dcgan_init(net):
    torch.manual_seed(0)
    model = basic_generator(16, 1, 16, n_features=16) if net == "generator" else basic_critic(16, 1, 16)
    convs = [m for m in model.modules() if isinstance(m, _CONVS)]
    # every conv, the generator's last transposed one included (torch's default gives it a std of ~0.14)
    for conv in convs:
        assert 0.015 < float(conv.weight.std()) < 0.025, conv
        assert conv.bias is None or not conv.bias.any()
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        assert abs(float(bn.weight.mean()) - 1) < 0.02 and 0 < float(bn.weight.std()) < 0.05
        assert not bn.bias.any()


def test_a_fresh_generator_is_not_saturated():
    # a generator whose tanh starts saturated (torch's default init of its last layer) makes salt-and-pepper
    # noise and gets almost no gradient through the tanh
    torch.manual_seed(0)
    gen = basic_generator(32, 1, 16, n_features=16).train()
    with torch.no_grad():
        out = gen(torch.randn(32, 16))
    assert float((out.abs() > 0.9).float().mean()) < 0.005
    assert float(out.std()) < 0.3


def test_dcgan_init_draws_the_weight_under_spectral_norm():
    critic = basic_critic(16, 1, n_features=8, norm_type=NormType.Spectral)
    sn = next(m for m in critic.modules() if nn.utils.parametrize.is_parametrized(m, "weight"))
    original = sn.parametrizations.weight.original
    original.data.fill_(1.0)
    assert dcgan_init(critic, std=0.05) is critic
    assert 0.03 < float(original.std()) < 0.07
