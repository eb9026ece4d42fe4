"""TrainEvalCallback: train/eval mode, and the counters schedulers read."""

from torch import nn
from train_tasks import linear_task

from layered.train.callback import Callback
from layered.train.callbacks.train_eval import TrainEvalCallback
from layered.train.learner import Learner


class ModeSpy(Callback):
    """Records the model's mode and pct_train at each batch."""

    order = 0

    def before_fit(self):
        self.seen = []

    def before_batch(self):
        self.seen.append((self.learn.training, self.learn.model.training, round(self.learn.pct_train, 3)))


def test_modes_and_progress_counters():
    dls, _ = linear_task(n_train=64, n_valid=32, bs=32)  # 2 training, 1 validation batch per epoch
    spy = ModeSpy()
    model = nn.Sequential(nn.Linear(4, 1), nn.Dropout(0.1))
    learn = Learner(dls, model, loss_func=nn.MSELoss(), cbs=[spy, TrainEvalCallback()], default_cbs=False)
    learn.fit(2)
    assert spy.seen == [
        (True, True, 0.0),
        (True, True, 0.25),
        (False, False, 0.5),
        (True, True, 0.5),
        (True, True, 0.75),
        (False, False, 1.0),
    ]
    assert learn.train_iter == 4 and learn.n_train_iter == 4 and learn.pct_train == 1.0
