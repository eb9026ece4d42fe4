import pytest
import torch
import torch.nn.functional as F
from torch import nn

from layered.vision.errors import VisionError
from layered.vision.gan.losses import (
    GANLoss,
    PixelAdversarialLoss,
    gradient_penalty,
    standard_critic_loss,
    standard_generator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)
from layered.vision.gan.models import GANModule


def test_standard_losses_are_the_binary_cross_entropies():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    expected = -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean())
    assert torch.allclose(standard_critic_loss(real, fake), expected)
    assert torch.allclose(standard_generator_loss(fake), -torch.log(torch.sigmoid(fake)).mean())


def test_wgan_losses_are_the_score_gaps():
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 0.0])
    assert wgan_critic_loss(real, fake).item() == pytest.approx(-0.5 - 3.0)
    assert wgan_generator_loss(fake).item() == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("critic_loss", "generator_loss"),
    [(standard_critic_loss, standard_generator_loss), (wgan_critic_loss, wgan_generator_loss)],
)
def test_each_loss_is_a_scalar_lowered_by_the_right_scores(critic_loss, generator_loss):
    real = torch.zeros(4, requires_grad=True)
    fake = torch.zeros(4, requires_grad=True)
    loss = critic_loss(real, fake)
    assert loss.shape == ()
    loss.backward()
    # the critic gains by scoring real images higher and fakes lower
    assert (real.grad < 0).all() and (fake.grad > 0).all()
    fake.grad = None
    gen = generator_loss(fake, None, None)
    assert gen.shape == ()
    gen.backward()
    assert (fake.grad < 0).all()  # the generator gains when its fakes score higher


class Linear(nn.Module):
    """critic(x) = sum(w * x) per image: its gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1)


def test_gradient_penalty_is_zero_for_a_unit_gradient_and_grows_with_its_norm():
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    unit = torch.full((1, 2, 2), 0.5)  # norm 1
    assert gradient_penalty(Linear(unit), real, fake).item() == pytest.approx(0.0, abs=1e-6)
    critic = Linear(unit * 3)  # norm 3: (3 - 1)^2
    penalty = gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx(4.0)
    penalty.backward()  # the penalty trains the critic
    assert critic.w.grad is not None and critic.w.grad.abs().sum() > 0
    with pytest.raises(VisionError, match="must have one shape"):
        gradient_penalty(critic, real, fake[:3])


def _pair():
    gen = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    return GANModule(gen, nn.Linear(4, 1))


def test_gan_loss_scores_generated_output_in_generator_mode():
    model = _pair()
    loss = GANLoss(wgan_generator_loss, wgan_critic_loss)
    loss.gan_model = model
    model.switch(True)
    fake = model(torch.randn(6, 3))
    expected = -model.critic(fake).mean()
    assert torch.allclose(loss(fake, torch.zeros(6, 4)), expected)


def test_gan_loss_in_critic_mode_makes_fakes_without_gradient_to_the_generator():
    model = _pair()
    loss = GANLoss(wgan_generator_loss, wgan_critic_loss)
    loss.gan_model = model
    real, noise = torch.randn(6, 4), torch.randn(6, 3)
    real_pred = model(real)  # critic mode
    value = loss(real_pred, noise)
    expected = model.critic(model.generator(noise)).mean() - real_pred.mean()
    assert torch.allclose(value, expected)
    value.backward()
    assert all(p.grad is None for p in model.generator.parameters())
    assert all(p.grad is not None for p in model.critic.parameters())


def test_gan_loss_without_a_model_says_how_to_get_one():
    loss = GANLoss(wgan_generator_loss, wgan_critic_loss)
    with pytest.raises(VisionError, match="make the learner with GANLearner"):
        loss(torch.zeros(2), torch.zeros(2))
    with pytest.raises(VisionError, match="crit_loss_func must be callable"):
        GANLoss(wgan_generator_loss, 3)


def test_pixel_adversarial_loss_weighs_both_terms():
    fake_pred = torch.tensor([0.3, -0.2])
    output, target = torch.zeros(2, 3), torch.ones(2, 3)
    loss = PixelAdversarialLoss(pixel_weight=10.0, adv_weight=2.0)
    expected = 2.0 * standard_generator_loss(fake_pred) + 10.0 * F.l1_loss(output, target)
    assert torch.allclose(loss(fake_pred, output, target), expected)
