"""OptimWrapper: torch optimizers driven through the library's hyper-parameter names and freezing."""

import copy

import pytest
import torch
from torch import nn

from layered.train.errors import TrainError
from layered.train.optim.optimizer import OptimizerBase
from layered.train.optim.torch_optimizer import OptimWrapper


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _groups(net):
    return [list(m.parameters()) for m in net]


def _run(net, opt, seeds):
    for s in seeds:
        x = torch.randn(8, 3, generator=torch.Generator().manual_seed(s))
        net(x).pow(2).mean().backward()
        opt.step()
        opt.zero_grad()


def test_sgd_names_map_to_torch():
    net = _net()
    opt = OptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01))
    assert isinstance(opt, OptimizerBase)
    h = opt.hypers[0]
    assert (h["lr"], h["mom"], h["wd"]) == (0.1, 0.9, 0.01)
    assert "momentum" not in h and "sqr_mom" not in h and "nesterov" in h
    opt.set_hypers(mom=0.5, wd=0.2, lr=0.3)
    g = opt.opt.param_groups[0]
    assert (g["momentum"], g["weight_decay"], g["lr"]) == (0.5, 0.2, 0.3)


def test_adam_betas_and_rmsprop_alpha():
    net = _net()
    adam = OptimWrapper(torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.8, 0.9)))
    assert (adam.hypers[0]["mom"], adam.hypers[0]["sqr_mom"]) == (0.8, 0.9)
    adam.set_hyper("mom", 0.95)
    adam.set_hyper("sqr_mom", 0.99)
    assert adam.param_groups[0]["betas"] == (0.95, 0.99)
    rms = OptimWrapper(torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.7))
    assert rms.hypers[0]["sqr_mom"] == 0.7 and rms.hypers[0]["mom"] == 0
    rms.set_hyper("sqr_mom", 0.6)
    assert rms.param_groups[0]["alpha"] == 0.6


def test_build_from_params_with_library_names_and_per_group_values():
    net = _net()
    opt = OptimWrapper(_groups(net), torch.optim.AdamW, lr=1e-3, mom=0.85, wd=0.05)
    assert isinstance(opt.opt, torch.optim.AdamW)
    assert len(opt.param_groups) == 3
    assert all(g["betas"][0] == 0.85 and g["weight_decay"] == 0.05 for g in opt.param_groups)
    opt.set_hyper("lr", slice(1e-4, 1e-2))
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1e-4, 1e-3, 1e-2])
    assert [h["lr"] for h in opt.hypers] == pytest.approx([1e-4, 1e-3, 1e-2])


def test_unknown_hyper_and_bad_construction_raise():
    net = _net()
    ada = OptimWrapper(torch.optim.Adagrad(net.parameters(), lr=0.1))
    assert "mom" not in ada.hypers[0]
    with pytest.raises(TrainError, match="Adagrad has no hyper-parameter 'mom'"):
        ada.set_hyper("mom", 0.9)
    with pytest.raises(TrainError, match="opt_cls and hyper-parameters must not be given"):
        OptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD)
    with pytest.raises(TrainError, match="needs opt_cls"):
        OptimWrapper(net.parameters(), lr=0.1)


def test_steps_like_the_wrapped_optimizer():
    a, b = _net(), _net()
    _run(a, OptimWrapper(a.parameters(), torch.optim.SGD, lr=0.1, mom=0.9), range(3))
    _run(b, torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9), range(3))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert not torch.equal(a[0].weight, _net()[0].weight)


def test_state_dict_round_trip_continues_exactly():
    net = _net()
    twin = copy.deepcopy(net)
    _run(net, OptimWrapper(net.parameters(), torch.optim.Adam, lr=0.01), range(6))
    opt = OptimWrapper(twin.parameters(), torch.optim.Adam, lr=0.01)
    _run(twin, opt, range(3))
    sd = copy.deepcopy(opt.state_dict())
    fresh = OptimWrapper(twin.parameters(), torch.optim.Adam, lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.hypers[0]["lr"] == 0.01
    fresh.set_hyper("lr", 0.02)  # the views follow the groups torch rebuilt on loading
    assert fresh.opt.param_groups[0]["lr"] == 0.02
    fresh.set_hyper("lr", 0.01)
    _run(twin, fresh, range(3, 6))
    for p, q in zip(net.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_freeze_keeps_norm_params_and_stops_momentum():
    net = _net()
    opt = OptimWrapper(_groups(net), torch.optim.SGD, lr=0.1, mom=0.9, norm_params=net[1].parameters())
    _run(net, opt, [0])
    opt.freeze()
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True, True, True]
    before = [p.detach().clone() for p in net.parameters()]
    _run(net, opt, [1])
    after = list(net.parameters())
    assert torch.equal(after[0], before[0])  # its momentum buffer would have moved it
    assert not torch.equal(after[2], before[2]) and not torch.equal(after[4], before[4])
    opt.unfreeze()
    assert all(p.requires_grad for p in net.parameters())


def test_clear_state():
    net = _net()
    opt = OptimWrapper(net.parameters(), torch.optim.Adam, lr=0.01)
    _run(net, opt, [0])
    assert len(opt.state) == 6
    opt.clear_state()
    assert len(opt.state) == 0
