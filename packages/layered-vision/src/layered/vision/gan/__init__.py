"""Generative adversarial networks: generator and critic, their losses, the trainer switching between them."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
data: GenerateNoise InvisibleTensor NoiseBlock TanhRange
diff_augment: DiffAugment
learner: GANLearner unet_gan_learner
losses: GANLoss PixelAdversarialLoss gradient_penalty standard_critic_loss standard_generator_loss wgan_critic_loss wgan_generator_loss
models: GANModule NoiseToMap basic_critic basic_generator dcgan_init patch_critic
switchers: AdaptiveGANSwitcher FixedGANSwitcher
trainer: GANTrainer GradientPenalty
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
