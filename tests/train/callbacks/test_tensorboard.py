"""TensorBoardCallback: a clear error without tensorboard; what it logs, through a stand-in writer."""

import sys

import pytest
from torch import nn
from train_tasks import linear_task

from layered.train.callbacks import tensorboard
from layered.train.callbacks.tensorboard import TensorBoardCallback
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.metrics.regression import rmse


class FakeWriter:
    instances = []

    def __init__(self, log_dir):
        self.log_dir, self.scalars, self.graphs, self.closed, self.flushes = log_dir, {}, [], False, 0
        FakeWriter.instances.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.setdefault(tag, []).append((step, value))

    def add_graph(self, model, inputs):
        self.graphs.append((model, inputs))

    def flush(self):
        self.flushes += 1

    def close(self):
        self.closed = True


def test_missing_tensorboard_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # find_spec then reports it absent
    with pytest.raises(TrainError, match="pip install tensorboard"):
        TensorBoardCallback()


def test_logs_batches_epochs_and_hypers(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard, "_summary_writer_class", lambda: FakeWriter)
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), metrics=rmse, lr=0.01, path=tmp_path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    learn.fit(2, cbs=TensorBoardCallback(trace_model=True))
    writer = FakeWriter.instances[-1]
    assert writer.log_dir == str(tmp_path / "runs") and writer.closed and writer.flushes == 2
    assert [s for s, _ in writer.scalars["train/loss"]] == list(range(1, 9))
    smooth = [v for _, v in writer.scalars["train/smooth_loss"]]
    assert smooth == pytest.approx(learn.recorder.losses)
    assert [v for _, v in writer.scalars["hypers/lr_0"]] == [0.01] * 8
    for col, name in ((0, "train_loss"), (1, "valid_loss"), (2, "rmse")):
        assert writer.scalars[f"epoch/{name}"] == [
            (e, pytest.approx(v[col])) for e, v in enumerate(learn.recorder.values)
        ]
    assert "epoch/time" not in writer.scalars
    assert len(writer.graphs) == 1 and writer.graphs[0][0] is learn.model
    assert writer.graphs[0][1][0].shape == (16, 4)


def test_the_event_files_hold_what_was_logged(tmp_path):
    """With the real SummaryWriter: the event files on disk, read back with TensorBoard's own reader."""
    pytest.importorskip(
        "tensorboard", reason="TensorBoardCallback needs tensorboard: pip install layered-train[tensorboard]"
    )
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), metrics=rmse, lr=0.01, path=tmp_path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    learn.fit(2, cbs=TensorBoardCallback(log_dir=tmp_path / "tb"))
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert {"train/loss", "train/smooth_loss", "hypers/lr_0", "epoch/valid_loss", "epoch/rmse"} <= set(
        scalars
    )
    losses = events.Scalars("train/smooth_loss")
    assert [e.step for e in losses] == list(range(1, 9))
    assert [e.value for e in losses] == pytest.approx(learn.recorder.losses, rel=1e-6)  # stored as float32
    for col, name in ((0, "train_loss"), (1, "valid_loss"), (2, "rmse")):
        logged = events.Scalars(f"epoch/{name}")
        assert [e.step for e in logged] == [0, 1]
        assert [e.value for e in logged] == pytest.approx([v[col] for v in learn.recorder.values], rel=1e-6)
    assert [e.value for e in events.Scalars("hypers/lr_0")] == pytest.approx([0.01] * 8)
