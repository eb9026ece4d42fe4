"""Switchers: callbacks that tell `GANTrainer` which network trains on the next batch.

`FixedGANSwitcher(n_crit, n_gen)` alternates fixed numbers of steps (WGAN trains the critic 5
steps per generator step). `AdaptiveGANSwitcher(gen_thresh, critic_thresh)` keeps training a
network until its loss falls below its threshold (a threshold of None: one step, then switch).
"""

from __future__ import annotations

from layered.train.callback import Callback
from layered.vision.errors import VisionError
from layered.vision.gan.trainer import GANTrainer

__all__ = ["AdaptiveGANSwitcher", "FixedGANSwitcher"]


def _trainer(cb: Callback) -> GANTrainer:
    trainer = getattr(cb.learn, "gan_trainer", None)
    if not isinstance(trainer, GANTrainer):
        raise VisionError(f"{type(cb).__name__} switches a GANTrainer; the learner has none (use GANLearner)")
    return trainer


class FixedGANSwitcher(Callback):
    """`n_crit` critic steps, then `n_gen` generator steps, and again; the counts carry across epochs."""

    run_after = (GANTrainer,)

    def __init__(self, n_crit: int = 1, n_gen: int = 1):
        for n, name in ((n_crit, "n_crit"), (n_gen, "n_gen")):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise VisionError(f"FixedGANSwitcher: {name} must be a positive int, got {n!r}")
        self.n_crit, self.n_gen = n_crit, n_gen
        self.n_done = 0  # steps of the network now training

    def before_fit(self) -> None:
        _trainer(self)
        self.n_done = 0

    def after_batch(self) -> None:
        if not self.training:
            return
        trainer = _trainer(self)
        self.n_done += 1
        if self.n_done >= (self.n_gen if trainer.gen_mode else self.n_crit):
            trainer.switch()
            self.n_done = 0


class AdaptiveGANSwitcher(Callback):
    """Switch to the critic once the generator's loss is below `gen_thresh`, back once the critic's is below `critic_thresh`.

    A threshold of None switches after every step of that network.
    """

    run_after = (GANTrainer,)

    def __init__(self, gen_thresh: float | None = None, critic_thresh: float | None = None):
        for t, name in ((gen_thresh, "gen_thresh"), (critic_thresh, "critic_thresh")):
            if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))):
                raise VisionError(f"AdaptiveGANSwitcher: {name} must be a number or None, got {t!r}")
        self.gen_thresh, self.critic_thresh = gen_thresh, critic_thresh

    def before_fit(self) -> None:
        _trainer(self)

    def after_batch(self) -> None:
        if not self.training or self.loss is None:
            return
        trainer = _trainer(self)
        thresh = self.gen_thresh if trainer.gen_mode else self.critic_thresh
        if thresh is None or float(self.loss) < thresh:
            trainer.switch()
