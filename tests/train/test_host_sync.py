"""No host-device synchronisation per batch: the loop reads losses and metrics only at display time."""

import numpy as np
import pytest
import torch
from torch import nn
from train_tasks import class_task

from layered.core.seed import set_seed
from layered.train.callbacks.progress import ProgressCallback
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.metrics.classification import accuracy

# the tensor methods that copy a value to the host (waiting for the device to finish)
_SYNCS = {"item", "tolist", "numpy", "cpu", "__float__", "__bool__", "__int__", "__index__", "__format__"}


class _SyncCounter:
    """Counts host reads of spied tensors, split by whether a batch was running."""

    def __init__(self):
        self.in_batch, self.outside, self.batch_running = [], [], False


counter = _SyncCounter()


class SyncSpy(torch.Tensor):
    """A tensor that records every read to the host; results of operations on it are spies too."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in _SYNCS:
            (counter.in_batch if counter.batch_running else counter.outside).append(name)
        return super().__torch_function__(func, types, args, kwargs or {})


class SpiedModel(nn.Module):
    """A small classifier whose predictions (so losses and metric values) are spies."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x):
        return self.body(x).as_subclass(SyncSpy)


@pytest.fixture
def spied_batches(monkeypatch):
    real = Learner.one_batch

    def one_batch(self, *args, **kwargs):
        counter.batch_running = True
        try:
            real(self, *args, **kwargs)
        finally:
            counter.batch_running = False

    monkeypatch.setattr(Learner, "one_batch", one_batch)
    counter.in_batch, counter.outside = [], []
    return counter


def _learner(every: int = 100) -> Learner:
    set_seed(0)
    learn = Learner(
        class_task(n=512, bs=32), SpiedModel(), loss_func=CrossEntropyLossFlat(), metrics=accuracy, lr=0.05
    )
    learn.progress.every = every
    learn.logger = lambda row: None
    return learn


def test_default_callbacks_read_nothing_from_the_device_inside_the_batch_loop(spied_batches):
    learn = _learner()
    assert [type(c).__name__ for c in learn.cbs] == ["TrainEvalCallback", "Recorder", "ProgressCallback"]
    learn.fit(2)  # 2 epochs of 12 training and 4 validation batches, progress bar on
    assert spied_batches.in_batch == []
    # the losses and metrics were read after each phase, and they are right
    assert spied_batches.outside
    rec = learn.recorder
    assert len(rec.losses) == 24 and all(np.isfinite(rec.losses))
    assert rec.values[-1][2] > 0.8  # accuracy on two well-separated blobs
    assert rec.values[-1][0] < rec.values[0][0]


def test_the_progress_bar_reads_the_loss_every_n_batches(spied_batches):
    learn = _learner(every=5)
    learn.fit(1)
    # the loss is read (one transfer of the kept losses) after batches 5 and 10 of the 12
    assert spied_batches.in_batch == ["tolist", "tolist"]
    with pytest.raises(TrainError, match="every must be an int"):
        ProgressCallback(every=0)


def test_recorder_values_are_numbers_only():
    learn = _learner()
    with learn.no_bar():
        learn.fit(2)
    rec = learn.recorder
    table = np.array(rec.values)
    assert table.shape == (2, 3) and table.dtype == np.float64
    assert rec.value_names == ["train_loss", "valid_loss", "accuracy"]
    assert rec.metric_names == ["epoch", *rec.value_names, "time"]
    assert len(rec.times) == 2 and all(t > 0 for t in rec.times)
    assert rec.final_record == rec.values[-1]
