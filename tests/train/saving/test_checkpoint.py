"""Exact resume: a fit interrupted at any batch and resumed from its checkpoint ends like an uninterrupted one."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset

from layered.core.seed import set_seed
from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.train.callback import Callback
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.metrics.classification import accuracy
from layered.train.saving.checkpoint import (
    CheckpointCallback,
    load_checkpoint,
    rng_states,
    set_rng_states,
)
from layered.train.saving.state_file import read_state

HERE = Path(__file__).parent
N_EPOCH, PER_EPOCH = 3, 10  # 160 training items in batches of 16


def make_dls(torch_loader: bool = False) -> DataLoaders:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (200,), generator=g)
    x = torch.randn(200, 5, generator=g) + y[:, None].float()
    if torch_loader:
        shuffler = torch.Generator().manual_seed(1)
        train = TorchDataLoader(
            TensorDataset(x[:160], y[:160]), batch_size=16, shuffle=True, generator=shuffler
        )
        valid = TorchDataLoader(TensorDataset(x[160:], y[160:]), batch_size=16)
    else:
        train = DataLoader((x[:160], y[:160]), bs=16, shuffle=True, drop_last=True)
        valid = DataLoader((x[160:], y[160:]), bs=16)
    return DataLoaders(train, valid, device="cpu")


def make_learner(path, init_seed: int, torch_loader: bool = False) -> Learner:
    """A small classifier with dropout (torch's generator) on shuffled data (Python's generator)."""
    set_seed(init_seed)
    model = nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 3))
    learn = Learner(
        make_dls(torch_loader), model, loss_func=CrossEntropyLossFlat(), metrics=accuracy, path=path
    )
    learn.recorder.train_metrics = True
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


class Crash(Callback):
    """Fail (like a crash, not a cancel) once training batch number `at` is done."""

    order = 100

    def __init__(self, at: int):
        self.at = at

    def after_batch(self):
        if self.training and self.learn.train_iter == self.at:
            raise RuntimeError(f"simulated crash after batch {self.at}")


class CountTrainBatches(Callback):
    """Count the training batches the model actually ran on."""

    def __init__(self):
        self.n = 0

    def after_pred(self):
        if self.training:
            self.n += 1


class Progress(Callback):
    """Write the number of training batches done to a file (after the checkpoint), then pause a little."""

    order = 100

    def __init__(self, file: str, pause: float):
        self.file, self.pause = file, pause

    def after_batch(self):
        if self.training:
            Path(self.file).write_text(str(self.learn.train_iter))
            time.sleep(self.pause)


def reference_run(path: Path, torch_loader: bool = False) -> Learner:
    """The uninterrupted fit."""
    learn = make_learner(path, init_seed=1, torch_loader=torch_loader)
    set_seed(5)
    learn.fit_one_cycle(N_EPOCH, 1e-2)
    return learn


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Learner:
    return reference_run(tmp_path_factory.mktemp("ref"))


def assert_same_training(a: Learner, b: Learner) -> None:
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(p, q), f"{name} differs by {(p - q).abs().max()}"
    assert a.recorder.values == b.recorder.values
    assert a.recorder.lrs == b.recorder.lrs and a.recorder.moms == b.recorder.moms
    assert a.recorder.losses == b.recorder.losses and a.recorder.iters == b.recorder.iters


def test_rng_states_round_trip_every_generator():
    g = torch.Generator().manual_seed(3)
    dl = TorchDataLoader(list(range(10)), shuffle=True, generator=g)
    states = rng_states(dl)
    first = (random.random(), np.random.rand(), torch.rand(1), torch.rand(1, generator=g))
    set_rng_states(states, dl)
    again = (random.random(), np.random.rand(), torch.rand(1), torch.rand(1, generator=g))
    assert first[:2] == again[:2] and torch.equal(first[2], again[2]) and torch.equal(first[3], again[3])
    with pytest.raises(TrainError, match="loader generator"):
        set_rng_states(states, None)


# (crash after batch, last checkpoint): mid-epoch, on a checkpoint, past an epoch's end, at one, later
@pytest.mark.parametrize("crash_at, done", [(7, 4), (8, 8), (11, 10), (20, 20), (27, 24)])
def test_resume_after_crash_equals_uninterrupted_fit(tmp_path, reference, crash_at, done):
    crashed = make_learner(tmp_path / "run", init_seed=1)
    set_seed(5)
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.fit_one_cycle(N_EPOCH, 1e-2, cbs=[CheckpointCallback(every_n_batches=4), Crash(crash_at)])
    assert load_checkpoint(ckpt_path(tmp_path))["train_iter"] == done

    # a new learner with other initial weights and other generator states
    resumed = make_learner(tmp_path / "run", init_seed=9)
    counter = CountTrainBatches()
    set_seed(123)
    resumed.fit_one_cycle(
        N_EPOCH, 1e-2, cbs=[counter, CheckpointCallback(every_n_batches=4)], resume_from=ckpt_path(tmp_path)
    )
    assert counter.n == N_EPOCH * PER_EPOCH - done  # the batches already done were not run again
    assert resumed.train_iter == N_EPOCH * PER_EPOCH and resumed.pct_train == 1.0
    assert_same_training(reference, resumed)


def test_a_resumed_fit_can_crash_and_resume_again(tmp_path, reference):
    for crash_at, init_seed in [(7, 1), (17, 2), (None, 3)]:
        learn = make_learner(tmp_path / "run", init_seed=init_seed)
        cbs = [CheckpointCallback(every_n_batches=3)] + ([Crash(crash_at)] if crash_at else [])
        resume_from = ckpt_path(tmp_path) if init_seed > 1 else None
        set_seed(5)
        if crash_at is None:
            learn.fit_one_cycle(N_EPOCH, 1e-2, cbs=cbs, resume_from=resume_from)
            continue
        with pytest.raises(RuntimeError, match="simulated crash"):
            learn.fit_one_cycle(N_EPOCH, 1e-2, cbs=cbs, resume_from=resume_from)
        assert load_checkpoint(ckpt_path(tmp_path))["train_iter"] == crash_at // 3 * 3
    assert_same_training(reference, learn)


def ckpt_path(tmp_path) -> Path:
    return tmp_path / "run" / "models" / "resume.safetensors"


def test_resume_with_a_torch_loader_and_its_own_generator(tmp_path):
    ref = reference_run(tmp_path / "ref", torch_loader=True)
    crashed = make_learner(tmp_path / "run", init_seed=1, torch_loader=True)
    set_seed(5)
    with pytest.raises(RuntimeError):
        crashed.fit_one_cycle(N_EPOCH, 1e-2, cbs=[CheckpointCallback(every_n_batches=3), Crash(17)])
    resumed = make_learner(tmp_path / "run", init_seed=9, torch_loader=True)
    resumed.fit_one_cycle(N_EPOCH, 1e-2, resume_from=ckpt_path(tmp_path))
    assert_same_training(ref, resumed)


def test_resume_refuses_another_fit_or_file(tmp_path):
    learn = make_learner(tmp_path / "run", init_seed=1)
    learn.fit(2, 1e-2, cbs=CheckpointCallback(every_n_batches=5))
    with pytest.raises(TrainError, match="2 epochs of 10 batches; this fit has 3 epochs"):
        make_learner(tmp_path / "run", 1).fit(3, 1e-2, resume_from=ckpt_path(tmp_path))
    with pytest.raises(TrainError, match="no checkpoint at"):
        make_learner(tmp_path / "run", 1).fit(2, resume_from=tmp_path / "missing.pth")
    learn.save("weights")
    with pytest.raises(TrainError, match=r"is not a layered-checkpoint file .*it is a 'layered-model' file"):
        make_learner(tmp_path / "run", 1).fit(
            2, resume_from=tmp_path / "run" / "models" / "weights.safetensors"
        )
    with pytest.raises(TrainError, match="every_n_batches"):
        CheckpointCallback(every_n_batches=0)


def test_checkpoint_holds_position_and_loads_without_pickle(tmp_path):
    learn = make_learner(tmp_path / "run", init_seed=1)
    cb = CheckpointCallback(fname=tmp_path / "ck.safetensors", every_n_batches=3)
    with pytest.raises(RuntimeError):
        learn.fit(2, 1e-2, cbs=[cb, Crash(14)])
    state = load_checkpoint(tmp_path / "ck.safetensors")
    weights, _ = read_state(tmp_path / "ck.safetensors", "layered-checkpoint")  # a plain safetensors artifact
    assert set(weights) == set(learn.model.state_dict())
    assert (state["epoch"], state["batches_done"], state["train_iter"]) == (1, 2, 12)
    assert state["n_epoch"] == 2 and state["n_batches"] == PER_EPOCH
    assert len(state["recorder"]["values"]) == 1 and len(state["recorder"]["losses"]) == 12
    assert not list(tmp_path.glob(".ck.safetensors.*"))  # no temporary file left behind


# ---- a real crash: SIGKILL at a random batch, then resume in a new process -----------------------
def child_main(path: str, progress: str, resume: bool) -> None:
    """Run in a subprocess: the fit with checkpoints (or its resumption), then save the final weights."""
    torch.set_num_threads(1)
    learn = make_learner(Path(path), init_seed=9 if resume else 1)
    set_seed(123 if resume else 5)
    cbs = [CheckpointCallback(every_n_batches=3), Progress(progress, pause=0 if resume else 0.03)]
    learn.fit_one_cycle(
        N_EPOCH, 1e-2, cbs=cbs, resume_from=Path(path) / "models" / "resume.safetensors" if resume else None
    )
    learn.save("final", with_opt=False)


def run_child(path: Path, progress: Path, resume: bool) -> subprocess.Popen:
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_checkpoint as t; "
        f"t.child_main({str(path)!r}, {str(progress)!r}, {resume})"
    )
    return subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)


def test_sigkill_at_a_random_batch_then_resume_in_a_new_process(tmp_path, reference):
    progress = tmp_path / "progress.txt"
    target = random.Random().randint(4, N_EPOCH * PER_EPOCH - 4)
    child = run_child(tmp_path / "run", progress, resume=False)
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:
        done = progress.read_text() if progress.exists() else ""
        if done and int(done) >= target:
            os.kill(child.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    _, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, f"the child was not killed (rc {child.returncode}): {err}"
    killed_at = int(progress.read_text())
    assert killed_at < N_EPOCH * PER_EPOCH, f"target {target}: the child finished before the kill"

    resumed = run_child(tmp_path / "run", progress, resume=True)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    final, _ = read_state(tmp_path / "run" / "models" / "final.safetensors", "layered-model")
    for name, p in reference.model.state_dict().items():
        assert torch.equal(p, final[name]), f"killed after batch {killed_at}: {name} differs"


class _NoisyItems:
    """A per-item dataset (so workers build the batches) whose items get random noise in the workers."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def _jitter(item):
    """A random item transform drawing from torch's, NumPy's and Python's generators in the worker."""
    x, y = item
    return x + 0.1 * torch.randn(x.shape) + float(np.random.rand()) * 0.01 + random.random() * 0.01, y


def _persistent_learner(path, init_seed):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (96,), generator=g)
    x = torch.randn(96, 5, generator=g) + y[:, None].float()
    kw = {"bs": 16, "num_workers": 2, "persistent_workers": True, "after_item": _jitter}
    train = DataLoader(_NoisyItems(x[:64], y[:64]), shuffle=True, drop_last=True, **kw)
    valid = DataLoader(_NoisyItems(x[64:], y[64:]), **kw)
    set_seed(init_seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    learn = Learner(
        DataLoaders(train, valid, device="cpu"), model, loss_func=CrossEntropyLossFlat(), path=path
    )
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_resume_is_exact_with_persistent_workers_and_a_random_item_transform(tmp_path):
    reference = _persistent_learner(tmp_path / "ref", init_seed=1)
    set_seed(5)
    reference.fit(3, 1e-2)
    crashed = _persistent_learner(tmp_path / "run", init_seed=1)
    set_seed(5)
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.fit(3, 1e-2, cbs=[CheckpointCallback(every_n_batches=3), Crash(6)])  # mid-epoch 1
    resumed = _persistent_learner(tmp_path / "run", init_seed=9)
    set_seed(123)
    resumed.fit(3, 1e-2, resume_from=ckpt_path(tmp_path))
    for p, q in zip(reference.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(p, q), (p - q).abs().max()
