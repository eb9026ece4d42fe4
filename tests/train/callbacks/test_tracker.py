"""Trackers: best-model saving, early stopping, lr reduction on plateaus, stopping on NaN."""

import numpy as np
import pytest
import torch
from torch import nn
from train_tasks import linear_task

from layered.core.seed import set_seed
from layered.train.callback import Callback
from layered.train.callbacks.tracker import (
    EarlyStoppingCallback,
    ReduceLROnPlateau,
    SaveModelCallback,
    TerminateOnNaNCallback,
    TrackerCallback,
)
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.metrics.regression import rmse
from layered.train.optim.algorithms import SGD
from layered.train.saving.state_file import read_state


class Scripted(Callback):
    """Overwrite one recorded column with a scripted value per epoch, before the trackers read it."""

    order = 55

    def __init__(self, column, values):
        self.column, self.script = column, values

    def after_epoch(self):
        rec = self.learn.recorder
        rec.values[-1][rec.metric_names[1:].index(self.column)] = self.script[self.learn.epoch]


class Snapshots(Callback):
    """Copy the weights at the end of every epoch, and the lr at the start."""

    order = 55

    def before_fit(self):
        self.weights, self.lrs = [], []

    def before_epoch(self):
        self.lrs.append([h["lr"] for h in self.learn.opt.hypers])

    def after_epoch(self):
        self.weights.append({k: v.clone() for k, v in self.learn.model.state_dict().items()})


def make_learner(tmp_path, cbs=(), **kwargs):
    set_seed(0)
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    learn = Learner(
        dls,
        nn.Linear(4, 1),
        loss_func=MSELossFlat(),
        opt_func=SGD,
        lr=0.05,
        path=tmp_path,
        cbs=list(cbs),
        **kwargs,
    )
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_comparison_is_inferred_from_the_monitored_name():
    assert TrackerCallback("valid_loss").comp is np.less
    assert TrackerCallback("error_rate").comp is np.less
    assert TrackerCallback("accuracy").comp is np.greater
    assert TrackerCallback("accuracy", comp=np.less).comp is np.less


def test_save_model_reloads_the_best_epoch(tmp_path):
    snaps = Snapshots()
    save = SaveModelCallback(fname="best")
    learn = make_learner(tmp_path, [Scripted("valid_loss", [3.0, 1.0, 2.0, 4.0]), snaps, save])
    learn.fit(4)
    assert save.best_epoch == 1 and save.best == 1.0
    final_differs = any(not torch.equal(snaps.weights[3][k], snaps.weights[1][k]) for k in snaps.weights[1])
    assert final_differs  # otherwise reloading proves nothing
    for k, v in learn.model.state_dict().items():
        assert torch.equal(v, snaps.weights[1][k])
    on_disk, extra = read_state(tmp_path / "models" / "best.safetensors", "layered-model")
    assert extra == {}
    for k, v in on_disk.items():
        assert torch.equal(v, snaps.weights[1][k])
    assert not list((tmp_path / "models").glob("*.tmp"))


def test_save_model_every_epoch_and_at_end(tmp_path):
    snaps = Snapshots()
    learn = make_learner(tmp_path, [snaps, SaveModelCallback(fname="ep", every_epoch=True, with_opt=True)])
    learn.fit(3)
    for epoch in range(3):
        weights, extra = read_state(tmp_path / "models" / f"ep_{epoch}.safetensors", "layered-model")
        assert "opt" in extra
        assert torch.equal(weights["weight"], snaps.weights[epoch]["weight"])
    learn = make_learner(
        tmp_path, [Scripted("valid_loss", [1.0, 2.0, 3.0]), snaps, SaveModelCallback(at_end=True)]
    )
    learn.fit(3)
    weights, _ = read_state(tmp_path / "models" / "model.safetensors", "layered-model")
    assert torch.equal(weights["weight"], snaps.weights[2]["weight"])
    assert torch.equal(learn.model.weight, snaps.weights[2]["weight"])  # nothing reloaded


def test_unknown_monitor_names_the_recorded_columns(tmp_path):
    learn = make_learner(tmp_path, [SaveModelCallback(monitor="accuracy")], metrics=rmse)
    with pytest.raises(TrainError, match=r"accuracy.*valid_loss.*rmse"):
        learn.fit(1)


def test_early_stopping_stops_after_patience_epochs(tmp_path):
    stop = EarlyStoppingCallback(patience=2)
    learn = make_learner(tmp_path, [Scripted("valid_loss", [5.0, 4.0, 4.5, 4.2, 1.0, 0.5]), stop])
    learn.fit(6)
    assert stop.stopped_epoch == 3
    assert len(learn.recorder.values) == 4
    assert learn.epoch == 3


def test_early_stopping_min_delta_and_greater_is_better(tmp_path):
    stop = EarlyStoppingCallback(monitor="rmse", comp=np.greater, min_delta=0.1, patience=2)
    learn = make_learner(tmp_path, [Scripted("rmse", [1.0, 1.05, 1.09, 2.0]), stop], metrics=rmse)
    learn.fit(4)
    assert stop.stopped_epoch == 2 and stop.best == 1.0


def test_reduce_lr_on_plateau_divides_the_lr(tmp_path):
    snaps = Snapshots()
    reduce = ReduceLROnPlateau(patience=2, factor=10.0)
    learn = make_learner(tmp_path, [Scripted("valid_loss", [1.0, 2.0, 3.0, 4.0, 5.0, 0.1]), snaps, reduce])
    learn.fit(6)
    lrs = [g[0] for g in snaps.lrs]
    assert lrs == pytest.approx([0.05, 0.05, 0.05, 0.005, 0.005, 0.0005])
    assert learn.opt.hypers[0]["lr"] == pytest.approx(0.0005)


def test_reduce_lr_on_plateau_respects_min_lr(tmp_path):
    reduce = ReduceLROnPlateau(patience=1, factor=4.0, min_lr=0.02)
    learn = make_learner(tmp_path, [Scripted("valid_loss", [1.0, 2.0, 3.0]), reduce])
    learn.fit(3)
    assert learn.opt.hypers[0]["lr"] == pytest.approx(0.02)
    with pytest.raises(TrainError, match="factor"):
        ReduceLROnPlateau(factor=0.5)


class NaNAt:
    """MSE loss that returns NaN on its `at`-th call."""

    def __init__(self, at):
        self.at, self.calls = at, 0

    def __call__(self, pred, targ):
        self.calls += 1
        loss = nn.functional.mse_loss(pred, targ)
        return loss * float("nan") if self.calls == self.at else loss


def test_terminate_on_nan_stops_at_the_bad_batch(tmp_path):
    learn = make_learner(tmp_path, [TerminateOnNaNCallback()])
    learn.loss_func = NaNAt(8)  # epoch 0 makes 4 train + 2 valid calls: call 8 is epoch 1's 2nd batch
    learn.fit(3)
    assert learn.loss_func.calls == 8  # nothing ran after the NaN batch
    assert len(learn.recorder.losses) == 5  # the NaN batch is not recorded
    assert all(np.isfinite(learn.recorder.losses))
    assert len(learn.recorder.values) == 1 and learn.epoch == 1


def test_terminate_on_nan_stops_before_the_optimizer_step(capsys):
    from train_tasks import linear_learner

    learn, _ = linear_learner(cbs=[TerminateOnNaNCallback()], lr=1e6, opt_func=SGD)
    learn.fit(3)
    assert "Non-finite loss inf at epoch 0, batch" in capsys.readouterr().out
    assert all(bool(torch.isfinite(p).all()) for p in learn.model.parameters())
