"""ParamScheduler: each hyper-parameter follows its schedule over the training progress."""

import pytest
from torch import nn
from train_tasks import linear_task

from layered.train.callbacks.param_scheduler import ParamScheduler
from layered.train.callbacks.train_eval import TrainEvalCallback
from layered.train.learner import Learner
from layered.train.optim.algorithms import SGD
from layered.train.optim.schedule import SchedLin


def test_lr_follows_the_schedule_on_training_batches_only():
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)  # 4 training batches per epoch
    learn = Learner(dls, nn.Linear(4, 1), loss_func=nn.MSELoss(), opt_func=SGD, lr=0.01, default_cbs=False)
    sched = ParamScheduler({"lr": SchedLin(0.0, 0.8)})
    learn.add_cb(TrainEvalCallback())
    learn.fit(2, cbs=[sched])
    # before_fit sets pct 0, then one value per training batch (8), none for validation
    assert len(sched.hps["lr"]) == 1 + 8
    assert sched.hps["lr"][0] == pytest.approx(0.0)
    assert sched.hps["lr"][1:4] == pytest.approx([0.0, 0.1, 0.2])  # pct_train lags the batch by one
    assert learn.opt.hypers[0]["lr"] == pytest.approx(sched.hps["lr"][-1])
