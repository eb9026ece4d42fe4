"""Exact resume with sampling loaders: a weighted or partial epoch interrupted mid-way resumes on the same draws."""

import numpy as np
import pytest
import torch
from torch import nn

from layered.core.seed import set_seed
from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.data.sampling import PartialDL, WeightedDL
from layered.train.callback import Callback
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.saving.checkpoint import CheckpointCallback


class Crash(Callback):
    order = 100

    def after_batch(self):
        if self.training and self.learn.train_iter == 5:
            raise RuntimeError("simulated crash")


def make_learner(path, kind, init_seed):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (200,), generator=g)
    x = torch.randn(200, 5, generator=g) + y[:, None].float()
    sampling = {"wgts": np.linspace(0.2, 1.0, 160)} if kind is WeightedDL else {"partial_n": 96}
    train = kind((x[:160], y[:160]), bs=16, shuffle=True, drop_last=True, **sampling)
    dls = DataLoaders(train, DataLoader((x[160:], y[160:]), bs=16), device="cpu")
    set_seed(init_seed)
    model = nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 3))
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), path=path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


@pytest.mark.parametrize("kind", [WeightedDL, PartialDL])
def test_resume_of_a_sampling_loader_is_exact(tmp_path, kind):
    reference = make_learner(tmp_path / "ref", kind, 1)
    set_seed(5)
    reference.fit(2, 1e-2)
    crashed = make_learner(tmp_path / "run", kind, 1)
    set_seed(5)
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.fit(2, 1e-2, cbs=[CheckpointCallback(every_n_batches=2), Crash()])
    resumed = make_learner(tmp_path / "run", kind, 9)
    set_seed(123)
    resumed.fit(2, 1e-2, resume_from=tmp_path / "run" / "models" / "resume.safetensors")
    for p, q in zip(reference.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(p, q), (p - q).abs().max()
    assert reference.recorder.losses == resumed.recorder.losses
