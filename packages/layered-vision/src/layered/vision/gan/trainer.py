"""`GANTrainer`: trains a `GANModule`'s generator and critic in turn, one batch at a time.

In generator mode a batch `(gen_input, target)` runs as it comes: the generator makes images and
`GANLoss` scores them with the critic. In critic mode the batch is swapped to `(target,
gen_input)`: the critic scores the real images and `GANLoss` makes fakes from the input. The
network not training has `requires_grad` off, so the optimizer (one for both networks) updates
only the one that trains. A switcher callback (`FixedGANSwitcher`, `AdaptiveGANSwitcher`) decides
after each batch which network trains next. Validation runs in generator mode; after `fit` the
model is left in generator mode with every parameter trainable again.
"""

from __future__ import annotations

import torch

from layered.train.callback import Callback
from layered.train.callbacks.train_eval import TrainEvalCallback
from layered.vision.errors import VisionError
from layered.vision.gan.losses import GANLoss, gradient_penalty
from layered.vision.gan.models import GANModule

__all__ = ["GANTrainer", "GradientPenalty"]


class GANTrainer(Callback):
    """Switch a `GANModule` between generator and critic training; record each network's losses.

    `gen_first`: start with the generator. `switch_eval`: put the network that does not train in
    eval mode (its batch norm then uses running statistics). `clip`: after each critic step,
    clamp the critic's weights to `[-clip, clip]` (WGAN's weight clipping). `gen_losses` and
    `crit_losses` hold the training losses of each network's steps, and `n_gen_steps` /
    `n_crit_steps` count them over the fit.
    """

    run_after = (TrainEvalCallback,)

    def __init__(self, gen_first: bool = False, switch_eval: bool = False, clip: float | None = None):
        if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
            raise VisionError(f"GANTrainer: clip must be a positive number or None, got {clip!r}")
        self.gen_first, self.switch_eval, self.clip = bool(gen_first), bool(switch_eval), clip
        self.gen_mode = self.gen_first
        self.gen_losses: list[float] = []
        self.crit_losses: list[float] = []
        self.n_gen_steps = self.n_crit_steps = 0
        self._mode_before_validate = True

    def before_fit(self) -> None:
        if not isinstance(self.model, GANModule):
            raise VisionError(f"GANTrainer needs a GANModule as the model, got {type(self.model).__name__}")
        if not isinstance(self.loss_func, GANLoss):
            raise VisionError(f"GANTrainer needs a GANLoss as the loss, got {type(self.loss_func).__name__}")
        self.gen_losses, self.crit_losses = [], []
        self.n_gen_steps = self.n_crit_steps = 0
        self.switch(self.gen_first)

    def switch(self, gen_mode: bool | None = None) -> None:
        """Train the generator (`True`) or the critic (`False`) from the next batch; `None` flips."""
        self.gen_mode = (not self.gen_mode) if gen_mode is None else bool(gen_mode)
        self._set_mode(self.gen_mode)

    def _set_mode(self, gen_mode: bool) -> None:
        model = self.model
        model.switch(gen_mode)
        model.generator.requires_grad_(gen_mode)
        model.critic.requires_grad_(not gen_mode)

    def before_batch(self) -> None:
        if not self.training:
            return
        if self.switch_eval:  # TrainEvalCallback put both in train mode for the epoch
            self.model.generator.train(self.gen_mode)
            self.model.critic.train(not self.gen_mode)
        if not self.gen_mode:
            self.learn.xb, self.learn.yb = self.yb, self.xb

    def after_step(self) -> None:
        if self.gen_mode:
            self.n_gen_steps += 1
            return
        self.n_crit_steps += 1
        if self.clip is not None:
            with torch.no_grad():
                for p in self.model.critic.parameters():
                    p.clamp_(-self.clip, self.clip)

    def after_batch(self) -> None:
        if self.training and self.loss is not None:
            (self.gen_losses if self.gen_mode else self.crit_losses).append(float(self.loss))

    def before_validate(self) -> None:
        # validation and prediction generate; the mode the model was in comes back afterwards
        self._mode_before_validate = self.model.gen_mode
        self.model.switch(True)

    def after_validate(self) -> None:
        self.model.switch(self._mode_before_validate)

    def after_fit(self) -> None:
        model = self.model
        model.switch(True)
        model.requires_grad_(True)
        model.train(False)


class GradientPenalty(Callback):
    """WGAN-GP: add `weight * gradient_penalty(critic, real, fake)` to the loss of each critic step.

    The fakes are made again from the batch's generator input (without gradient); attach it with
    the Wasserstein losses and a critic without batch norm (`GANLearner.wgan(gp_weight=10)`).
    """

    run_after = (GANTrainer,)

    def __init__(self, weight: float = 10.0):
        if not (isinstance(weight, (int, float)) and weight > 0):
            raise VisionError(f"GradientPenalty: weight must be a positive number, got {weight!r}")
        self.weight = float(weight)

    def after_loss(self) -> None:
        model = self.model
        if not self.training or model.gen_mode:
            return
        real, gen_input = self.xb[0], self.yb[0]
        with torch.no_grad():
            fake = model.generator(gen_input)
        penalty = gradient_penalty(model.critic, real, fake)
        self.learn.loss_grad = self.learn.loss_grad + self.weight * penalty
        self.learn.loss = self.learn.loss_grad.detach()
