"""CSVLogger: one row per epoch, appending across restarts with a single header."""

import csv
import re

import pytest
from torch import nn
from train_tasks import linear_task

from layered.train.callback import Callback
from layered.train.callbacks.csv_logger import CSVLogger
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.metrics.regression import rmse


def make_learner(tmp_path, metrics=rmse):
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), metrics=metrics, path=tmp_path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def read(file):
    with open(file, newline="") as f:
        return list(csv.reader(f))


def test_one_row_per_epoch_with_the_recorder_columns(tmp_path):
    learn = make_learner(tmp_path)
    learn.fit(3, cbs=CSVLogger())
    rows = read(tmp_path / "history.csv")
    assert rows[0] == ["epoch", "train_loss", "valid_loss", "rmse", "time"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for row, values in zip(rows[1:], learn.recorder.values):
        assert [float(v) for v in row[1:4]] == pytest.approx(values[:3])
        assert len(values) == 3 and re.fullmatch(r"\d\d:\d\d", row[4])  # the time only in the file's row
    assert not list(tmp_path.glob("*.tmp"))


def test_append_continues_the_log_of_a_restarted_run(tmp_path):
    make_learner(tmp_path).fit(2, cbs=CSVLogger(append=True))
    make_learner(tmp_path).fit(3, start_epoch=2, cbs=CSVLogger(append=True))
    rows = read(tmp_path / "history.csv")
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2"]
    make_learner(tmp_path).fit(1, cbs=CSVLogger(append=False))
    assert [r[0] for r in read(tmp_path / "history.csv")] == ["epoch", "0"]


class CrashAt(Callback):
    order = 70

    def after_epoch(self):
        if self.learn.epoch == 1:
            raise RuntimeError("crash")


def test_finished_epochs_are_on_disk_after_a_crash(tmp_path):
    with pytest.raises(RuntimeError, match="crash"):
        make_learner(tmp_path).fit(5, cbs=[CSVLogger(fname="logs/run.csv"), CrashAt()])
    assert [r[0] for r in read(tmp_path / "logs" / "run.csv")] == ["epoch", "0", "1"]


def test_appending_with_other_columns_is_refused(tmp_path):
    make_learner(tmp_path).fit(1, cbs=CSVLogger(append=True))
    with pytest.raises(TrainError, match=r"history.csv.*header"):
        make_learner(tmp_path, metrics=None).fit(1, cbs=CSVLogger(append=True))
