"""ShortEpochCallback: each epoch stops after a fraction of its batches; validation too, or scored whole."""

import pytest
from train_tasks import linear_learner

from layered.train.callback import Callback
from layered.train.callbacks.short_epoch import ShortEpochCallback
from layered.train.errors import TrainError


class CountBatches(Callback):
    """Count the batches the model ran on, per phase."""

    def __init__(self):
        self.seen = {"train": 0, "valid": 0}

    def after_pred(self):
        self.seen["train" if self.learn.training else "valid"] += 1


def run(short_valid: bool):
    learn, _ = linear_learner()  # 8 training and 2 validation batches
    count = CountBatches()
    learn.fit(2, 1e-2, cbs=[count, ShortEpochCallback(pct=0.25, short_valid=short_valid)])
    return learn, count.seen


def test_short_epochs_run_a_fraction_of_the_batches():
    learn, seen = run(short_valid=True)
    assert seen == {"train": 2 * 2, "valid": 2 * 1}  # 25% of 8; 25% of 2 rounded up to one batch
    assert (
        len(learn.recorder.values) == 2 and len(learn.recorder.losses) == 4
    )  # the Recorder saw every batch run
    _, seen = run(short_valid=False)
    assert seen == {"train": 4, "valid": 4}


def test_bad_pct_is_named():
    with pytest.raises(TrainError, match=r"pct must be in \(0, 1\], got 0"):
        ShortEpochCallback(pct=0)
