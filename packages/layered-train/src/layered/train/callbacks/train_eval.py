"""The callback that puts the model in train or eval mode and counts the training progress."""

from __future__ import annotations

from layered.train.callback import Callback

__all__ = ["TrainEvalCallback"]


class TrainEvalCallback(Callback):
    """Switch `model.train()` / `model.eval()` and keep `epoch`, `train_iter` and `pct_train`.

    `pct_train` runs from 0 to 1 over the whole fit; schedulers read it.
    """

    order = -10

    def before_fit(self):
        self.learn.train_iter = 0
        self.learn.pct_train = 0.0
        self.learn.n_train_iter = self.n_epoch * len(self.dls.train)
        done = self.learn.epoch * len(self.dls.train)
        if done:  # resuming: restart the counters where the epoch begins
            self.learn.train_iter = done
            self.learn.pct_train = done / max(self.learn.n_train_iter, 1)

    def before_train(self):
        self.learn.training = True
        self.model.train()

    def after_batch(self):
        learn = self.learn
        if learn.training:
            learn.train_iter += 1
            learn.pct_train = learn.train_iter / max(learn.n_train_iter, 1)

    def before_validate(self):
        self.learn.training = False
        self.model.eval()
