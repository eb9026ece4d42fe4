"""ProgressCallback: bars over epochs and batches, and the results table, around one fit."""

import sys

from torch import nn
from train_tasks import linear_task

from layered.train.callbacks.progress import ProgressCallback
from layered.train.learner import Learner


def test_bars_follow_the_fit_and_the_logger_comes_back(capsys):
    dls, _ = linear_task(n_train=64, n_valid=32, bs=32)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=nn.MSELoss())
    assert isinstance(learn.progress, ProgressCallback)
    before = learn.logger
    learn.fit(2)
    assert "fastprogress" in sys.modules  # imported with the first fit
    assert learn.logger is before and not hasattr(learn.progress, "mbar")
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out  # the table's header
    with learn.no_bar():
        assert not any(isinstance(cb, ProgressCallback) for cb in learn.cbs)
    assert any(isinstance(cb, ProgressCallback) for cb in learn.cbs)


def test_a_fit_that_starts_past_the_first_epoch_shows_its_bars(capsys):
    dls, _ = linear_task(n_train=64, n_valid=32, bs=32)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=nn.MSELoss())
    learn.fit(3, start_epoch=1)  # as a resumed fit does: epochs 1 and 2 only
    assert len(learn.recorder.values) == 2
    assert "valid_loss" in capsys.readouterr().out
