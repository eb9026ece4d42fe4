"""bs_find: batch sizes grow in powers of two until the memory cap; the learner comes back exactly as it was."""

import matplotlib

matplotlib.use("Agg")

import copy
import itertools

import pytest
import torch
from torch import nn
from train_tasks import quiet

from layered.core.seed import set_seed
from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.train.callbacks.bs_finder import BSFinder, plot_bs
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat


def make_learner():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (512,), generator=g)
    x = torch.randn(512, 8, generator=g) + y[:, None].float()
    train = DataLoader((x[:448], y[:448]), bs=32, shuffle=True, drop_last=True)
    dls = DataLoaders(train, DataLoader((x[448:], y[448:]), bs=32), device="cpu")
    set_seed(0)
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 3))
    return quiet(Learner(dls, model, loss_func=CrossEntropyLossFlat()))


def same(a, b) -> bool:
    """Nested states equal, tensors compared exactly."""
    if torch.is_tensor(a):
        return torch.is_tensor(b) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def test_bs_find_restores_the_learner_and_stops_at_the_memory_cap():
    learn = make_learner()
    learn.fit(1, 1e-2)  # an optimizer with state, as after some training
    weights = {k: v.clone() for k, v in learn.model.state_dict().items()}
    opt_state = copy.deepcopy(learn.opt.state_dict())
    train, cbs, rng = learn.dls.train, list(learn.cbs), torch.get_rng_state()

    found = learn.bs_find(start_bs=8, max_bs=256, show_plot=False, patience=10)
    sizes = [r["bs"] for r in found.results]
    assert sizes == [8, 16, 32, 64, 128, 256] and all(r["status"] == "ok" for r in found.results)
    memory = [r["memory"] for r in found.results]
    assert all(a < b for a, b in itertools.pairwise(memory))  # activations grow with the batch
    per_sample = (memory[-1] - memory[0]) / (256 - 8)
    assert per_sample >= 4 * (8 + 64 + 64 + 3)  # at least the float32 activations of one sample
    assert found.bs in sizes and learn.bs_finder is found

    for k, v in learn.model.state_dict().items():
        assert torch.equal(v, weights[k]), k
    assert same(learn.opt.state_dict(), opt_state)
    assert learn.dls.train is train and learn.dls.train.bs == 32 and learn.cbs == cbs
    assert torch.equal(torch.get_rng_state(), rng)

    capped = learn.bs_find(start_bs=8, max_memory=memory[3] + 1, show_plot=False, patience=10)
    assert [r["status"] for r in capped.results] == ["ok"] * 4 + ["memory cap"]
    assert capped.bs <= 64
    assert plot_bs(capped).get_xlabel() == "batch size"


def test_bs_find_refuses_what_it_cannot_measure():
    learn = make_learner()
    with pytest.raises(TrainError, match="no batch size could be measured"):
        learn.bs_find(start_bs=1024, show_plot=False)
    with pytest.raises(TrainError, match="num_it >= 2"):
        learn.bs_find(num_it=1, show_plot=False)


class RunsOutAt(nn.Module):
    """A model that raises torch's out-of-memory error for batches of `limit` items or more, as a GPU would."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit, self.linear = limit, nn.Linear(8, 3)

    def forward(self, x):
        if len(x) >= self.limit:
            raise torch.OutOfMemoryError(f"simulated: {len(x)} items do not fit")
        return self.linear(x)


def test_bs_find_stops_at_an_out_of_memory_error_and_restores_the_learner(monkeypatch):
    counted = []
    pack = BSFinder._pack
    monkeypatch.setattr(BSFinder, "_pack", lambda self, t: counted.append(1) or pack(self, t))
    learn = make_learner()
    learn.model = RunsOutAt(64)
    weights = {k: v.clone() for k, v in learn.model.state_dict().items()}
    found = learn.bs_find(start_bs=8, max_memory=None, show_plot=False, patience=10)
    assert [(r["bs"], r["status"]) for r in found.results] == [
        (8, "ok"),
        (16, "ok"),
        (32, "ok"),
        (64, "out of memory"),
    ]
    assert found.bs <= 32 and learn.dls.train.bs == 32
    packed = len(counted)
    learn.model(torch.randn(4, 8, requires_grad=True)).sum().backward()
    assert len(counted) == packed  # no counting hook left behind by the failed step
    for k, v in learn.model.state_dict().items():
        assert torch.equal(v, weights[k]), k
