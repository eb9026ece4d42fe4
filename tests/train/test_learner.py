"""The Learner's loop, its two-way callbacks, freezing, schedules, inference and persistence."""

import numpy as np
import pytest
import torch
from torch import nn
from train_tasks import class_task, event_log, linear_learner, linear_task, mlp, quiet

from layered.core.seed import set_seed
from layered.train.callback import (
    Callback,
    CancelBatchException,
    CancelFitException,
)
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat, MSELossFlat
from layered.train.metrics.classification import accuracy
from layered.train.optim.algorithms import SGD


def test_events_fire_in_the_documented_order():
    set_seed(0)
    dls, _ = linear_task(n_train=64, n_valid=32, bs=32)
    log = event_log()
    learn = quiet(Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), cbs=log))
    learn.fit(1)
    batch_train = [
        "before_batch",
        "after_pred",
        "after_loss",
        "before_backward",
        "after_backward",
        "before_step",
        "after_step",
        "after_batch",
    ]
    batch_valid = ["before_batch", "after_pred", "after_loss", "after_batch"]
    expected = (
        ["before_fit", "before_epoch", "before_train"]
        + batch_train * 2
        + ["after_train", "before_validate"]
        + batch_valid
        + ["after_validate", "after_epoch", "after_fit"]
    )
    assert log.events == expected


def test_run_train_and_run_valid_choose_the_phase_but_not_the_framing_events():
    class Phases(Callback):
        def __init__(self):
            self.seen = []

        def after_batch(self):
            self.seen.append("train" if self.learn.training else "valid")

        def after_epoch(self):  # frames both phases: runs whatever run_train/run_valid say
            self.seen.append("epoch")

    class TrainOnly(Phases):
        run_valid = False

    class ValidOnly(Phases):
        run_train = False

    class Switching(Phases):
        run_valid = False

        def after_train(self):
            self.run_valid = True  # read at every event: a change takes effect at once

    dls, _ = linear_task(n_train=64, n_valid=32, bs=32)
    cbs = [TrainOnly(), ValidOnly(), Switching()]
    quiet(Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), cbs=cbs)).fit(1)
    assert cbs[0].seen == ["train", "train", "epoch"]
    assert cbs[1].seen == ["valid", "epoch"]
    assert cbs[2].seen == ["train", "train", "valid", "epoch"]


def test_plain_torch_loaders_and_any_module_train_to_a_low_loss():
    set_seed(1)
    learn, w = linear_learner(lr=0.1)
    learn.fit_one_cycle(10, 0.1, wd=0.0)
    valid_loss = learn.recorder.values[-1][1]
    assert valid_loss < 5e-3  # from about 4 at the start
    assert torch.allclose(learn.model.weight.detach().T, w, atol=0.05)
    assert abs(learn.model.bias.item() - 0.5) < 0.05


def test_a_callback_can_change_the_loss():
    class ZeroLoss(Callback):
        def after_loss(self):
            self.learn.loss_grad = self.learn.loss_grad * 0

    learn, _ = linear_learner(opt_func=SGD, lr=0.1, cbs=ZeroLoss())
    before = [p.detach().clone() for p in learn.model.parameters()]
    learn.fit(1)
    assert all(torch.equal(a, b) for a, b in zip(before, learn.model.parameters()))


def test_a_callback_can_skip_batches_and_the_recorder_ignores_them():
    class SkipOdd(Callback):
        order = -20  # before the TrainEvalCallback counts the batch

        def before_batch(self):
            if self.learn.training and self.learn.iter % 2 == 1:
                raise CancelBatchException()

    class Steps(Callback):
        def before_fit(self):
            self.n = 0

        def after_step(self):
            self.n += 1

    learn, _ = linear_learner(cbs=[SkipOdd(), Steps()])
    learn.fit(1)
    n_batches = len(learn.dls.train)
    assert learn.steps.n == n_batches // 2 + n_batches % 2
    assert len(learn.recorder.losses) == learn.steps.n


def test_a_callback_can_stop_training():
    class StopAfterFirstEpoch(Callback):
        order = 100  # after the Recorder has logged the epoch

        def after_epoch(self):
            raise CancelFitException()

        def after_cancel_fit(self):
            self.cancelled = True

    learn, _ = linear_learner(cbs=StopAfterFirstEpoch())
    learn.fit(5)
    assert learn.stop_after_first_epoch.cancelled
    assert len(learn.recorder.values) == 1


def test_callbacks_are_reachable_by_name_and_added_for_a_block():
    learn, _ = linear_learner()
    assert learn.recorder is next(c for c in learn.cbs if type(c).__name__ == "Recorder")
    assert learn.train_eval.order == -10
    extra = event_log()
    with learn.added_cbs(extra):
        assert extra in learn.cbs and learn.event_log is extra
    assert extra not in learn.cbs and not hasattr(learn, "event_log")
    with learn.removed_cbs(type(learn.recorder)):
        assert not hasattr(learn, "recorder")
    assert hasattr(learn, "recorder")


def test_missing_loss_is_a_clear_error():
    dls, _ = linear_task()
    with pytest.raises(TrainError, match="loss_func"):
        Learner(dls, nn.Linear(4, 1))


def two_groups(model):
    return [list(model[:2].parameters()), list(model[2:].parameters())]


def test_freeze_never_freezes_batchnorm_and_slices_spread_rates():
    learn = quiet(
        Learner(
            class_task(), mlp(), loss_func=CrossEntropyLossFlat(), splitter=two_groups, lr=slice(1e-4, 1e-2)
        )
    )
    learn.freeze()
    body_linear, bn, head = learn.model[0], learn.model[1], learn.model[3]
    assert not body_linear.weight.requires_grad
    assert bn.weight.requires_grad and bn.bias.requires_grad
    assert head.weight.requires_grad
    learn.unfreeze()
    assert body_linear.weight.requires_grad
    lrs = [h["lr"] for h in learn.opt.hypers]
    assert np.allclose(lrs, [1e-4, 1e-2])

    frozen = quiet(
        Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), splitter=two_groups, train_bn=False)
    )
    frozen.freeze()
    assert not frozen.model[1].weight.requires_grad


def test_fit_one_cycle_schedules_lr_and_momentum():
    learn, _ = linear_learner()
    learn.fit_one_cycle(4, lr_max=1e-2, pct_start=0.25)
    lrs, moms = np.array(learn.recorder.lrs), np.array(learn.recorder.moms)
    assert lrs[0] == pytest.approx(1e-2 / 25, rel=1e-3)
    peak = int(np.argmax(lrs))
    assert abs(peak / len(lrs) - 0.25) < 0.05
    assert lrs.max() == pytest.approx(1e-2, rel=0.05)
    assert lrs[-1] < 1e-4
    assert moms[0] == pytest.approx(0.95) and moms[peak] == pytest.approx(0.85, abs=0.01)


def test_get_preds_validate_and_streaming():
    set_seed(3)
    learn = quiet(Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), metrics=accuracy))
    learn.fit_one_cycle(3, 1e-2)
    preds, targs, decoded, losses = learn.get_preds(with_decoded=True, with_loss=True)
    assert preds.shape == (128, 2) and targs.shape == (128,)
    assert torch.allclose(preds.sum(1), torch.ones(128), atol=1e-5)  # softmax applied
    assert torch.equal(decoded, preds.argmax(1))
    assert losses.shape == (128,)
    valid_loss, acc = learn.validate()
    assert valid_loss == pytest.approx(losses.mean().item(), rel=1e-4)
    assert acc == pytest.approx((decoded == targs).float().mean().item())
    assert acc > 0.9
    seen = []
    assert learn.get_preds(on_batch=lambda x, p, y, losses: seen.append(len(p))) is None
    assert sum(seen) == 128


def test_save_and_load_round_trip_atomically(tmp_path):
    set_seed(4)
    learn = quiet(Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), path=tmp_path))
    learn.fit(1)
    file = learn.save("stage1")
    assert file == tmp_path / "models" / "stage1.safetensors"
    assert [p.name for p in file.parent.iterdir()] == ["stage1.safetensors"]  # no temporary file left
    preds = learn.get_preds()[0]
    other = quiet(Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), path=tmp_path))
    other.load("stage1")
    assert torch.allclose(other.get_preds()[0], preds)
    assert other.opt.state_dict()["hypers"] == learn.opt.state_dict()["hypers"]


def test_first_non_finite_loss_is_warned_once_with_epoch_and_batch():
    import warnings

    from train_tasks import linear_learner

    from layered.train.optim.algorithms import SGD

    learn, _ = linear_learner(lr=1e6, opt_func=SGD)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learn.fit(2)
    found = [str(w.message) for w in caught if "non-finite loss" in str(w.message)]
    assert len(found) == 1 and "at epoch 0, batch " in found[0]


def test_fit_on_empty_loaders_is_refused():
    import torch.utils.data as tud
    from train_tasks import linear_learner

    from layered.data.dataloaders import DataLoaders
    from layered.train.errors import TrainError

    learn, _ = linear_learner()
    empty = tud.DataLoader(tud.TensorDataset(torch.zeros(0, 4), torch.zeros(0, 1)), batch_size=4)
    learn.dls = DataLoaders(empty, empty, device="cpu")
    with pytest.raises(TrainError, match="makes no batch"):
        learn.fit(1)


def test_an_interrupted_fit_leaves_the_model_in_evaluation_mode():
    from train_tasks import linear_learner

    from layered.train.callback import Callback

    class Interrupt(Callback):
        def after_loss(self):
            raise KeyboardInterrupt

    learn, _ = linear_learner(cbs=[Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        learn.fit(1)
    assert not learn.model.training and not learn.training


def test_validate_works_without_the_default_callbacks():
    from train_tasks import linear_task

    dls, _ = linear_task()
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), default_cbs=False)
    (loss,) = learn.validate()
    x, y = dls.valid.dataset.tensors
    with torch.no_grad():
        expected = float(((learn.model(x) - y) ** 2).mean())
    assert loss == pytest.approx(expected, rel=1e-5)
    assert not any(type(c).__name__ == "Recorder" for c in learn.cbs)  # only for the call
