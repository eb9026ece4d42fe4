"""Recorder: per-batch losses and hyper-parameters, per-epoch rows of losses and metrics."""

import pytest
from train_tasks import class_task, mlp

from layered.core.seed import set_seed
from layered.train.callbacks.progress import ProgressCallback
from layered.train.callbacks.recorder import Recorder
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.metrics.classification import accuracy


def test_recorder_keeps_one_row_per_epoch_and_one_loss_per_training_batch():
    set_seed(0)
    dls = class_task(n=256, bs=64)  # 3 training batches per epoch
    rows = []
    learn = Learner(dls, mlp(), loss_func=CrossEntropyLossFlat(), metrics=accuracy, lr=0.05)
    learn.remove_cb(ProgressCallback)
    learn.logger = rows.append
    learn.fit(2)
    rec = learn.recorder
    assert isinstance(rec, Recorder)
    assert rec.metric_names == ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
    assert len(rec.losses) == 6 and len(rec.lrs) == 6 and rec.lrs[0] == pytest.approx(0.05)
    assert len(rec.values) == 2 and rec.values[-1][2] > 0.8  # accuracy on two well-separated blobs
    assert rec.values[-1][0] < rec.values[0][0]  # the training loss went down
    assert rows[0] == rec.metric_names  # the header first, then one row per epoch
    assert len(rows) == 3 and rows[1][0] == 0
