"""`GANLearner`: a Learner over a `GANModule` and a `GANLoss`, with a `GANTrainer` and a switcher.

```python
learn = GANLearner.standard(dls, basic_generator(32, 1, 64), basic_critic(32, 1))   # DCGAN
learn = GANLearner.wgan(dls, generator, critic)                    # WGAN, weight clipping
learn = GANLearner.wgan(dls, generator, basic_critic(32, 1, norm_type=None), gp_weight=10.0)  # WGAN-GP
learn = unet_gan_learner(dls, xresnet18, pretrained=False)         # image to image
learn.fit(10, 2e-4); learn.show_results(); learn.predict(0)        # draws samples
```
An export holds the generator and critic and loads back as a `GANLearner` in generator mode.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn

from layered.core.registry import register_serializable
from layered.train.callback import Callback
from layered.train.learner import Learner
from layered.train.optim.algorithms import Adam
from layered.vision.errors import VisionError
from layered.vision.gan.losses import (
    GANLoss,
    PixelAdversarialLoss,
    standard_critic_loss,
    standard_generator_loss,
    wgan_critic_loss,
    wgan_generator_loss,
)
from layered.vision.gan.models import GANModule, patch_critic
from layered.vision.gan.switchers import AdaptiveGANSwitcher, FixedGANSwitcher
from layered.vision.gan.trainer import GANTrainer, GradientPenalty
from layered.vision.learner import arch_meta, create_body, normalize_dls
from layered.vision.unet import DynamicUnet

__all__ = ["GANLearner", "unet_gan_learner"]

# DCGAN's Adam (beta1 0.5, beta2 0.999) and WGAN-GP's (beta1 0, beta2 0.9); no weight decay
dcgan_adam = partial(Adam, mom=0.5, sqr_mom=0.999, wd=0.0)
wgan_adam = partial(Adam, mom=0.0, sqr_mom=0.9, wd=0.0)


def _cbs(cbs: Any) -> list:
    return [] if cbs is None else list(cbs) if isinstance(cbs, (list, tuple)) else [cbs]


@register_serializable(reference=True)  # exports name the class; loading rebuilds it from the model and loss
class GANLearner(Learner):
    """A `Learner` training `model` (a `GANModule`) with `loss_func` (a `GANLoss`).

    A `GANTrainer(gen_first, switch_eval, clip)` alternates the networks; `switcher` (default
    `FixedGANSwitcher()`, one step each) decides when. Other keyword arguments go to `Learner`.
    Predictions (`predict`, `get_preds`, `show_results`) are generated images.
    """

    def __init__(
        self,
        dls: Any,
        model: GANModule,
        loss_func: GANLoss | None = None,
        switcher: Callback | None = None,
        gen_first: bool = False,
        switch_eval: bool = False,
        clip: float | None = None,
        cbs: Any = None,
        **kwargs: Any,
    ):
        if not isinstance(model, GANModule):
            raise VisionError(
                f"GANLearner: model is a {type(model).__name__}, expected a GANModule(generator, critic)"
            )
        if not isinstance(loss_func, GANLoss):
            raise VisionError(
                f"GANLearner: loss_func is {loss_func!r}, expected a GANLoss(gen_loss_func, crit_loss_func)"
            )
        loss_func.gan_model = model
        trainer = GANTrainer(gen_first=gen_first, switch_eval=switch_eval, clip=clip)
        switcher = FixedGANSwitcher() if switcher is None else switcher
        super().__init__(dls, model, loss_func=loss_func, cbs=[trainer, switcher, *_cbs(cbs)], **kwargs)

    @classmethod
    def standard(
        cls, dls: Any, generator: nn.Module, critic: nn.Module, opt_func: Callable = dcgan_adam, **kwargs: Any
    ) -> GANLearner:
        """A standard GAN (non-saturating loss, DCGAN's Adam): one critic step, then one generator step."""
        loss = GANLoss(standard_generator_loss, standard_critic_loss)
        return cls(dls, GANModule(generator, critic), loss, opt_func=opt_func, **kwargs)

    @classmethod
    def wgan(
        cls,
        dls: Any,
        generator: nn.Module,
        critic: nn.Module,
        clip: float | None = 0.01,
        gp_weight: float | None = None,
        switcher: Callback | None = None,
        opt_func: Callable = wgan_adam,
        cbs: Any = None,
        **kwargs: Any,
    ) -> GANLearner:
        """A Wasserstein GAN: 5 critic steps per generator step, the critic kept Lipschitz by one of two means.

        By default its weights are clipped to `[-clip, clip]` after each step (WGAN); with
        `gp_weight` (10 in the paper) the gradient penalty is added to its loss instead and no
        weights are clipped (WGAN-GP; give it a critic without batch norm).
        """
        if gp_weight is not None:
            clip, cbs = None, [GradientPenalty(gp_weight), *_cbs(cbs)]
        switcher = FixedGANSwitcher(n_crit=5, n_gen=1) if switcher is None else switcher
        loss = GANLoss(wgan_generator_loss, wgan_critic_loss)
        return cls(
            dls,
            GANModule(generator, critic),
            loss,
            switcher=switcher,
            clip=clip,
            opt_func=opt_func,
            cbs=cbs,
            **kwargs,
        )


def _image_shape(dls: Any) -> tuple[int, tuple[int, int]]:
    """Channels and size of the targets (the wanted images) of one training batch."""
    b = dls.one_batch()
    if not (isinstance(b, tuple) and len(b) >= 2 and getattr(b[1], "ndim", 0) == 4):
        raise VisionError(
            "unet_gan_learner needs batches of (input image, target image), each (bs, channels, height, width)"
        )
    return b[1].shape[1], tuple(b[1].shape[-2:])


def unet_gan_learner(
    dls: Any,
    arch: Callable,
    critic: nn.Module | None = None,
    pretrained: bool = True,
    cut: int | Callable | None = None,
    n_in: int = 3,
    y_range: tuple[float, float] | None = (-3.0, 3.0),
    pixel_loss: Callable | None = None,
    pixel_weight: float = 50.0,
    adv_weight: float = 1.0,
    switcher: Callback | None = None,
    blur: bool = False,
    self_attention: bool = False,
    opt_func: Callable = dcgan_adam,
    **kwargs: Any,
) -> GANLearner:
    """An image-to-image GAN on `dls` of `(input image, target image)`: a `DynamicUnet` generator on `arch`'s body.

    The body is cut from `arch` as `create_body` cuts it (`cut`: a child index or a function).
    The generator's loss is `PixelAdversarialLoss(pixel_loss, pixel_weight, adv_weight)`; the
    critic (`patch_critic` by default) learns the standard GAN loss. The switcher defaults to
    `AdaptiveGANSwitcher(critic_thresh=0.65)`: one generator step, then critic steps until it
    tells real from generated well. With `pretrained`, the architecture's statistics normalise
    the images (inputs and targets) and `y_range` bounds the output in that scale.
    """
    n_out, img_size = _image_shape(dls)
    meta = arch_meta(arch)
    if pretrained and meta["stats"] is not None:
        normalize_dls(dls, meta["stats"])
    encoder = create_body(arch, n_in=n_in, pretrained=pretrained, cut=cut)
    generator = DynamicUnet(
        encoder, n_out, img_size, blur=blur, self_attention=self_attention, y_range=y_range
    )
    critic = patch_critic(n_out) if critic is None else critic
    gen_loss = PixelAdversarialLoss(pixel_loss, standard_generator_loss, pixel_weight, adv_weight)
    switcher = AdaptiveGANSwitcher(critic_thresh=0.65) if switcher is None else switcher
    loss = GANLoss(gen_loss, standard_critic_loss)
    return GANLearner(
        dls,
        GANModule(generator, critic),
        loss,
        switcher=switcher,
        gen_first=True,
        opt_func=opt_func,
        **kwargs,
    )
