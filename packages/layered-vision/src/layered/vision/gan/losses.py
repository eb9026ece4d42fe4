"""GAN losses: the standard (non-saturating) and Wasserstein losses, the gradient penalty, and `GANLoss`.

Scores are the critic's raw outputs, higher for what it takes as real. A critic loss takes
`(real_pred, fake_pred)`; a generator loss takes `(fake_pred, output, target)` — the critic's
scores of the generated `output`, and the batch's `target` (the real images of a generation
batch, the wanted images of an image-to-image one).

- standard GAN (Goodfellow et al., 2014): the critic minimises the binary cross-entropy of real
  images as 1 and fakes as 0; the generator minimises that of its fakes as 1 (the non-saturating
  form, which keeps gradients alive while the critic wins);
- WGAN (Arjovsky et al., 2017): the critic minimises `mean(fake) - mean(real)` (an estimate of
  minus the Wasserstein distance), the generator `-mean(fake)`. The critic must stay Lipschitz:
  clip its weights (`GANTrainer(clip=0.01)`, the original recipe) or add the gradient penalty of
  WGAN-GP (Gulrajani et al., 2017), `weight * mean((|grad critic(x̂)| - 1)²)` at random points
  `x̂` between real and generated images (`GradientPenalty`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from layered.core.registry import register_serializable
from layered.vision.errors import VisionError

__all__ = [
    "GANLoss",
    "PixelAdversarialLoss",
    "gradient_penalty",
    "standard_critic_loss",
    "standard_generator_loss",
    "wgan_critic_loss",
    "wgan_generator_loss",
]


@register_serializable
def standard_critic_loss(real_pred: torch.Tensor, fake_pred: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of real scores as 1 plus that of fake scores as 0 (from logits)."""
    real = F.binary_cross_entropy_with_logits(real_pred, torch.ones_like(real_pred))
    return real + F.binary_cross_entropy_with_logits(fake_pred, torch.zeros_like(fake_pred))


@register_serializable
def standard_generator_loss(fake_pred: torch.Tensor, output: Any = None, target: Any = None) -> torch.Tensor:
    """Binary cross-entropy of the fakes' scores as 1: the non-saturating generator loss."""
    return F.binary_cross_entropy_with_logits(fake_pred, torch.ones_like(fake_pred))


@register_serializable
def wgan_critic_loss(real_pred: torch.Tensor, fake_pred: torch.Tensor) -> torch.Tensor:
    """`mean(fake) - mean(real)`: the critic widens the gap between real and fake scores."""
    return fake_pred.mean() - real_pred.mean()


@register_serializable
def wgan_generator_loss(fake_pred: torch.Tensor, output: Any = None, target: Any = None) -> torch.Tensor:
    """`-mean(fake)`: the generator raises the critic's scores of its images."""
    return -fake_pred.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's `mean((|grad critic(x̂)|₂ - 1)²)` at `x̂` drawn uniformly between each real and fake image.

    The graph is kept (`create_graph`), so the penalty's own gradient reaches the critic's weights.
    """
    if real.shape != fake.shape:
        raise VisionError(
            f"gradient_penalty: real images {tuple(real.shape)} and fakes {tuple(fake.shape)} must have one shape"
        )
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device, dtype=real.dtype)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


@register_serializable(exclude=("gan_model",))
class GANLoss:
    """The loss of a `GANModule`: the generator's loss in generator mode, the critic's in critic mode.

    In generator mode the model's output is the generated batch: the critic scores it and
    `gen_loss_func(fake_pred, output, target)` is returned. In critic mode (`GANTrainer` swaps the
    batch) the model's output is the critic's scores of real images and the target is the
    generator's input: the generator makes fakes from it, without gradient, the critic scores
    them and `crit_loss_func(real_pred, fake_pred)` is returned. `GANLearner` gives it its model.
    """

    def __init__(self, gen_loss_func: Callable, crit_loss_func: Callable):
        for f, name in ((gen_loss_func, "gen_loss_func"), (crit_loss_func, "crit_loss_func")):
            if not callable(f):
                raise VisionError(f"GANLoss: {name} must be callable, got {f!r}")
        self.gen_loss_func, self.crit_loss_func = gen_loss_func, crit_loss_func
        self.gan_model: nn.Module | None = None

    def _model(self) -> nn.Module:
        if self.gan_model is None:
            raise VisionError(
                "GANLoss has no GANModule: make the learner with GANLearner, which gives it one"
            )
        return self.gan_model

    def __call__(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of the network `gan_model.gen_mode` says is training."""
        model = self._model()
        return self.generator(output, target) if model.gen_mode else self.critic(output, target)

    def generator(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Generator loss of a generated batch `output` (the critic's weights get no gradient while frozen)."""
        return self.gen_loss_func(self._model().critic(output), output, target)

    def critic(self, real_pred: torch.Tensor, gen_input: torch.Tensor) -> torch.Tensor:
        """Critic loss of the real scores `real_pred` against fakes made from `gen_input`."""
        model = self._model()
        with torch.no_grad():
            fake = model.generator(gen_input)
        return self.crit_loss_func(real_pred, model.critic(fake))


@register_serializable
class PixelAdversarialLoss:
    """Image-to-image generator loss: `adv_weight * adv_loss(fake_pred) + pixel_weight * pixel_loss(output, target)`.

    The pixel loss (`nn.L1Loss()` by default) keeps the output close to the wanted image; the adversarial
    term (the standard GAN one by default) makes it look real to the critic.
    """

    def __init__(
        self,
        pixel_loss: Callable | None = None,
        adv_loss: Callable = standard_generator_loss,
        pixel_weight: float = 50.0,
        adv_weight: float = 1.0,
    ):
        pixel_loss = nn.L1Loss() if pixel_loss is None else pixel_loss
        if not (callable(pixel_loss) and callable(adv_loss)):
            raise VisionError("PixelAdversarialLoss: pixel_loss and adv_loss must be callable")
        self.pixel_loss, self.adv_loss = pixel_loss, adv_loss
        self.pixel_weight, self.adv_weight = float(pixel_weight), float(adv_weight)

    def __call__(self, fake_pred: torch.Tensor, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The weighted sum of the adversarial and the pixel loss."""
        adv = self.adv_loss(fake_pred, output, target)
        return self.adv_weight * adv + self.pixel_weight * self.pixel_loss(output, target)
