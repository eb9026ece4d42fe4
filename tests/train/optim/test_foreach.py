"""The group path (`torch._foreach_*` twins, fused Adam) steps exactly as the per-parameter path."""

import copy
from functools import partial

import pytest
import torch
from torch import nn

from layered.train.optim import fused as fused_module
from layered.train.optim.algorithms import LAMB, SGD, Adam, QHAdam, RAdam, RMSProp
from layered.train.optim.foreach import foreach_ready, foreach_twin
from layered.train.optim.optimizer import Optimizer
from layered.train.optim.steppers import average_grad, qhadam_step

N_STEPS = 8

ALGORITHMS = {
    "sgd": partial(SGD, lr=0.1),
    "sgd-mom": partial(SGD, lr=0.1, mom=0.9),
    "sgd-mom-wd": partial(SGD, lr=0.1, mom=0.9, wd=0.1),
    "sgd-l2": partial(SGD, lr=0.1, mom=0.9, wd=0.1, decouple_wd=False),
    "rmsprop-mom-wd": partial(RMSProp, lr=0.01, mom=0.9, wd=0.1),
    "adam": partial(Adam, lr=0.01, wd=0.0),
    "adamw": partial(Adam, lr=0.01, wd=0.1),
    "adam-l2": partial(Adam, lr=0.01, wd=0.1, decouple_wd=False),
    "radam": partial(RAdam, lr=0.01),
    "radam-wd": partial(RAdam, lr=0.01, wd=0.1),
    "lamb": partial(LAMB, lr=0.01),
    "lamb-wd": partial(LAMB, lr=0.01, wd=0.1),
    "lamb-l2": partial(LAMB, lr=0.01, wd=0.1, decouple_wd=False),
}


class _Net(nn.Module):
    """Three groups' worth of layers: one frozen, one that never gets a gradient, a zero-initialised bias."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(10, 4)
        self.body = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.BatchNorm1d(6), nn.Linear(6, 2))
        self.frozen = nn.Linear(4, 4)
        self.unused = nn.Linear(3, 3)  # in the optimizer, never in the loss: its grad stays None
        nn.init.zeros_(self.body[3].bias)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        return self.body(self.emb(x) + self.frozen(self.emb(x)))

    def groups(self):
        return [
            list(self.emb.parameters()) + list(self.frozen.parameters()),
            list(self.body.parameters()),
            list(self.unused.parameters()),
        ]


def _batch(i):
    g = torch.Generator().manual_seed(i)
    return torch.randint(0, 10, (16,), generator=g), torch.randn(16, 2, generator=g)


def _train(net, opt, steps=range(N_STEPS)):
    for i in steps:
        x, y = _batch(i)
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()


def _run(make, foreach, steps=range(N_STEPS)):
    net = _Net()
    opt = make(net.groups(), foreach=foreach)
    opt.skip_wd([net.body[2].weight, net.body[2].bias, net.body[3].bias])
    _train(net, opt, steps)
    return net, opt


def _assert_same(a: nn.Module, b: nn.Module):
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-6, atol=1e-6, msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("name", ALGORITHMS)
def test_group_path_matches_per_parameter_path(name, monkeypatch):
    per_param, _ = _run(ALGORITHMS[name], foreach=False)
    calls = []
    monkeypatch.setattr(Optimizer, "_step_params", lambda self, ps, hyper: calls.append(ps))
    grouped, opt = _run(ALGORITHMS[name], foreach=True)
    assert calls == []  # every group took the group path
    _assert_same(grouped, per_param)
    # the run moved the weights, and left the frozen and gradient-less ones alone
    assert not torch.allclose(grouped.emb.weight, _Net().emb.weight)
    assert torch.equal(grouped.frozen.weight, _Net().frozen.weight)
    assert torch.equal(grouped.unused.weight, _Net().unused.weight)
    assert opt.state.get(grouped.unused.weight) is None


@pytest.mark.parametrize("name", ["adam", "adamw", "adam-l2"])
def test_adam_twins_without_the_fused_kernel(name, monkeypatch):
    """Where no fused kernel serves the device, Adam's groups run its `torch._foreach_*` twins."""
    monkeypatch.setattr(fused_module, "_FUSED_DEVICES", ())
    kernels = []
    monkeypatch.setattr(torch, "_fused_adamw_", lambda *a, **k: kernels.append(a))
    grouped, _ = _run(ALGORITHMS[name], foreach=True)
    per_param, _ = _run(ALGORITHMS[name], foreach=False)
    assert kernels == []
    _assert_same(grouped, per_param)


def test_adam_takes_the_fused_kernel_on_cpu(monkeypatch):
    real, calls = torch._fused_adamw_, []

    def spy(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "_fused_adamw_", spy)
    _run(ALGORITHMS["adamw"], foreach=True, steps=range(1))
    # one call per group with gradients, split by weight decay: emb (1), body with decay (3), body without (3)
    assert calls == [1, 3, 3]


@pytest.mark.parametrize("name", ["sgd-mom-wd", "adamw", "radam-wd", "lamb-wd"])
def test_state_dict_round_trip_and_switching_paths(name):
    """State saved on one path resumes on the other; switching mid-run keeps the steps exact."""
    straight, _ = _run(ALGORITHMS[name], foreach=False)
    net, opt = _run(ALGORITHMS[name], foreach=True, steps=range(3))
    sd = opt.state_dict()
    assert all(not k.startswith("_") for group in sd["state"] for st in group for k in st)
    resumed = copy.deepcopy(net)
    opt2 = ALGORITHMS[name](resumed.groups(), foreach=False)
    opt2.skip_wd([resumed.body[2].weight, resumed.body[2].bias, resumed.body[3].bias])
    opt2.load_state_dict(sd)
    _train(resumed, opt2, range(3, 5))
    opt2.foreach = True  # and back to the group path, whose step counts must follow
    _train(resumed, opt2, range(5, N_STEPS))
    _assert_same(resumed, straight)


def test_sparse_gradients_fall_back_to_per_parameter():
    emb = nn.Embedding(10, 3, sparse=True)
    ref = copy.deepcopy(emb)
    for e, foreach in ((emb, True), (ref, False)):
        opt = SGD(e.parameters(), lr=0.5, foreach=foreach)
        e(torch.tensor([1, 2, 2])).sum().backward()
        assert e.weight.grad.is_sparse
        opt.step()
    torch.testing.assert_close(emb.weight, ref.weight)
    assert not foreach_ready([emb.weight], [emb.weight.grad])


def test_foreach_ready_refuses_mixed_devices_and_subclasses():
    a, b = torch.zeros(2), torch.zeros(2, device="meta")
    assert foreach_ready([a, a.clone()], [a.clone(), a.clone()])
    assert not foreach_ready([a, b], [a.clone(), b.clone()])

    class Tagged(torch.Tensor):
        pass

    assert not foreach_ready([a.as_subclass(Tagged)], [a.clone()])
    assert not foreach_ready([], [])


def test_twins_found_through_partials_and_missing_ones_keep_the_per_parameter_path():
    twin = foreach_twin(partial(average_grad, dampening=True))
    assert twin.keywords == {"dampening": True}
    assert foreach_twin(qhadam_step) is None
    net = nn.Linear(3, 2)
    ref = copy.deepcopy(net)
    for model, foreach in ((net, True), (ref, False)):
        opt = QHAdam(model.parameters(), lr=0.01, foreach=foreach)
        model(torch.ones(4, 3)).pow(2).sum().backward()
        opt.step()
    torch.testing.assert_close(net.weight, ref.weight)
