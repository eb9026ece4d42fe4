"""The generic Optimizer: parameter groups, the callback protocol, hypers, state dicts and freezing."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from layered.train.errors import TrainError
from layered.train.optim.algorithms import SGD, Adam
from layered.train.optim.optimizer import Optimizer, hyper_per_group, normalize_param_groups
from layered.train.optim.steppers import sgd_step


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _groups(net):
    """Three groups: first linear, batchnorm, last linear."""
    return [list(m.parameters()) for m in net]


def _backward(net, seed=0):
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(seed))
    net(x).pow(2).mean().backward()


# ---- parameter groups ----------------------------------------------------------------------


def test_params_forms():
    net = _net()
    assert [len(ps) for ps in Optimizer(net.parameters(), [sgd_step], lr=0.1).param_lists] == [6]
    opt = Optimizer(_groups(net), [sgd_step], lr=0.1)
    assert [len(ps) for ps in opt.param_lists] == [2, 2, 2]
    assert opt.hypers == [{"lr": 0.1}] * 3
    opt = Optimizer(
        [{"params": net[0].parameters(), "lr": 1.0}, {"params": net[2].weight}], [sgd_step], lr=0.1, wd=0
    )
    assert opt.hypers == [{"lr": 1.0, "wd": 0}, {"lr": 0.1, "wd": 0}]
    assert opt.param_lists[1] == [net[2].weight]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (lambda n: n[0].weight, "single tensor"),
        (lambda n: [], "no parameters"),
        (lambda n: [n[0].weight, [n[0].bias]], "mix"),
        (lambda n: [[n[0].weight, 3.0]], "item 1 of group 0 is a float"),
        (lambda n: [[n[0].weight], [n[0].weight]], "more than one group"),
        (lambda n: [n[0].weight * 2], "not a leaf"),
        (lambda n: [{"lr": 0.1}], "without a 'params' key"),
    ],
)
def test_bad_params_are_named(params, match):
    with pytest.raises(TrainError, match=match):
        normalize_param_groups(params(_net()))


def test_callbacks_must_be_callable():
    with pytest.raises(TrainError, match="cbs: item 1 is a str"):
        Optimizer(_net().parameters(), [sgd_step, "adam"], lr=0.1)


# ---- the callback protocol -----------------------------------------------------------------


def test_callbacks_get_hypers_and_state_and_their_results_are_merged_in_order():
    p = nn.Parameter(torch.zeros(2))
    seen = []

    def count(p, n=0, **kwargs):
        return {"n": n + 1}

    def record(p, lr, n, scale, **kwargs):
        seen.append((lr, n, scale))
        p.add_(scale)  # runs under no_grad, so an in-place update of a leaf is allowed

    opt = Optimizer([p], [count, record], lr=0.5, scale=1.0)
    for _ in range(3):
        p.grad = torch.ones(2)
        opt.step()
    assert seen == [(0.5, 1, 1.0), (0.5, 2, 1.0), (0.5, 3, 1.0)]
    assert opt.state[p] == {"n": 3}
    torch.testing.assert_close(p.detach(), torch.full((2,), 3.0))


def test_params_without_grad_are_skipped():
    net = _net()
    opt = SGD(_groups(net), lr=0.1, mom=0.9)
    before = [p.detach().clone() for p in net.parameters()]
    _backward(net)
    net[2].weight.grad = None
    opt.step()
    after = list(net.parameters())
    assert torch.equal(after[4], before[4])
    assert not torch.equal(after[0], before[0])
    assert net[2].weight not in opt.state and net[0].weight in opt.state


def test_zero_grad():
    net = _net()
    opt = SGD(net.parameters(), lr=0.1)
    _backward(net)
    opt.zero_grad(set_to_none=False)
    assert all(torch.equal(p.grad, torch.zeros_like(p)) for p in net.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# ---- hyper-parameters ----------------------------------------------------------------------


def test_set_hyper_forms():
    opt = SGD(_groups(_net()), lr=0.1)
    opt.set_hyper("lr", 0.3)
    assert [h["lr"] for h in opt.hypers] == [0.3, 0.3, 0.3]
    opt.set_hyper("lr", [1, 2, 3])
    assert [h["lr"] for h in opt.hypers] == [1, 2, 3]
    opt.set_hyper("lr", np.array([0.1, 0.2, 0.3]))
    assert [h["lr"] for h in opt.hypers] == [0.1, 0.2, 0.3]
    assert all(type(h["lr"]) is float for h in opt.hypers)
    opt.set_hyper("lr", slice(1.0))
    assert [h["lr"] for h in opt.hypers] == [0.1, 0.1, 1.0]
    opt.set_hyper("lr", slice(1e-3, 1e-1))
    assert [h["lr"] for h in opt.hypers] == pytest.approx([1e-3, 1e-2, 1e-1])
    opt.set_hypers(mom=0.9, wd=(0.0, 0.1, 0.2))
    assert [(h["mom"], h["wd"]) for h in opt.hypers] == [(0.9, 0.0), (0.9, 0.1), (0.9, 0.2)]


def test_hyper_per_group_errors_name_the_hyper():
    with pytest.raises(TrainError, match="hyper 'mom': got 2 values for 3 parameter groups"):
        hyper_per_group("mom", [0.9, 0.8], 3)
    with pytest.raises(TrainError, match="hyper 'lr': a slice"):
        hyper_per_group("lr", slice(1e-3, None), 3)
    assert hyper_per_group("lr", slice(1e-3, 1e-2), 1) == [1e-2]
    assert hyper_per_group("lr", torch.tensor(0.5), 2) == [0.5, 0.5]


def test_param_groups_is_a_torch_style_view_over_hypers():
    net = _net()
    opt = Adam(_groups(net), lr=0.1)
    pg = opt.param_groups
    assert len(pg) == 3 and pg[1]["lr"] == 0.1 and pg[1]["params"] == list(net[1].parameters())
    pg[2]["lr"] = 0.5
    assert opt.hypers[2]["lr"] == 0.5 and opt.hypers[1]["lr"] == 0.1
    assert set(pg[0]) == {"params", "lr", "mom", "sqr_mom", "eps", "wd"}
    with pytest.raises(TrainError, match="'params' cannot be replaced"):
        pg[0]["params"] = []


# ---- state dicts ---------------------------------------------------------------------------


def _run(net, opt, seeds):
    for s in seeds:
        _backward(net, s)
        opt.step()
        opt.zero_grad()


def test_state_dict_round_trip_continues_exactly():
    net = _net()
    twin = copy.deepcopy(net)
    opt = Adam(_groups(net), lr=0.01)
    opt.set_hyper("lr", [0.01, 0.02, 0.03])
    _run(net, opt, range(10))

    opt_a = Adam(_groups(twin), lr=0.01)
    opt_a.set_hyper("lr", [0.01, 0.02, 0.03])
    _run(twin, opt_a, range(5))
    sd = opt_a.state_dict()
    saved_model = copy.deepcopy(twin)
    _run(twin, opt_a, [99])  # keeps changing the first optimizer: the saved copy must not follow
    opt_b = Adam(_groups(saved_model), lr=1.0)
    opt_b.load_state_dict(sd)
    assert [h["lr"] for h in opt_b.hypers] == [0.01, 0.02, 0.03]
    assert opt_b.state[saved_model[0].weight]["step"] == 5
    _run(saved_model, opt_b, range(5, 10))
    for a, b in zip(net.parameters(), saved_model.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_state_dict_layout_and_clones():
    net = _net()
    opt = SGD(_groups(net), lr=0.1, mom=0.9)
    _run(net, opt, [0])
    sd = opt.state_dict()
    assert [len(s) for s in sd["state"]] == [2, 2, 2]
    buf = sd["state"][0][0]["grad_avg"]
    assert buf.shape == net[0].weight.shape
    assert buf is not opt.state[net[0].weight]["grad_avg"]
    opt.load_state_dict(sd)
    assert opt.state[net[0].weight]["grad_avg"] is not buf


def test_load_state_dict_checks_layout():
    net = _net()
    sd = SGD(_groups(net), lr=0.1).state_dict()
    with pytest.raises(TrainError, match=r"3 hyper groups .* this optimizer has 1"):
        SGD(net.parameters(), lr=0.1).load_state_dict(sd)
    other = SGD([list(net[0].parameters()), list(net[1].parameters()), [net[2].weight]], lr=0.1)
    with pytest.raises(TrainError, match="group 2 saved 2 parameters, this one has 1"):
        other.load_state_dict(sd)
    with pytest.raises(TrainError, match="lacks"):
        other.load_state_dict({"state": []})


def test_clear_state():
    net = _net()
    opt = Adam(net.parameters(), lr=0.1)
    _run(net, opt, [0])
    assert opt.state
    opt.clear_state()
    assert opt.state == {}
    assert opt.state_dict()["state"] == [[{}] * 6]


# ---- freezing ------------------------------------------------------------------------------


def _trainable(net):
    return [p.requires_grad for p in net.parameters()]


def test_freeze_keeps_marked_norm_params_trainable():
    net = _net()
    opt = Adam([list(net[0].parameters()) + list(net[1].parameters()), list(net[2].parameters())], lr=0.1)
    opt.mark_norm_params([*net[1].parameters(), nn.Parameter(torch.zeros(1))])  # foreign tensors are ignored
    opt.freeze()
    assert _trainable(net) == [False, False, True, True, True, True]
    opt.unfreeze()
    assert all(_trainable(net))


def test_freeze_to_over_groups_and_train_bn_false():
    net = _net()
    opt = SGD(_groups(net), lr=0.1, norm_params=net[1].parameters())
    opt.freeze_to(2)
    assert _trainable(net) == [False, False, True, True, True, True]
    opt.freeze_to(1)
    assert _trainable(net) == [False, False, True, True, True, True]
    opt.freeze_to(-1)
    assert _trainable(net) == [False, False, True, True, True, True]
    opt.freeze_to(3)
    assert _trainable(net) == [False, False, True, True, False, False]
    opt.train_bn = False
    opt.freeze_to(2)
    assert _trainable(net) == [False, False, False, False, True, True]
    opt.freeze_to(0)
    assert all(_trainable(net))


def test_frozen_params_do_not_move_even_with_momentum():
    net = _net()
    opt = SGD(_groups(net), lr=0.1, mom=0.9, wd=0.1)
    _run(net, opt, [0])
    opt.zero_grad(set_to_none=False)  # stale zero grads that a momentum step would still use
    opt.freeze()
    assert net[0].weight.grad is None
    before = [p.detach().clone() for p in net.parameters()]
    _run(net, opt, [1])
    after = list(net.parameters())
    assert torch.equal(after[0], before[0]) and torch.equal(after[3], before[3])
    assert not torch.equal(after[4], before[4])


def test_freeze_errors():
    net = _net()
    with pytest.raises(TrainError, match="at least 2 parameter groups"):
        SGD(net.parameters(), lr=0.1).freeze()
    with pytest.raises(TrainError, match=r"n must be an int in \[-3, 3\]"):
        SGD(_groups(net), lr=0.1).freeze_to(4)


def test_all_params_selects_groups_and_grads():
    net = _net()
    opt = SGD(_groups(net), lr=0.1)
    opt.set_hyper("lr", [1, 2, 3])
    assert [(p.shape, h["lr"]) for p, h in opt.all_params(2)] == [
        (torch.Size([2, 4]), 3),
        (torch.Size([2]), 3),
    ]
    assert len(opt.all_params(slice(1, None))) == 4
    assert opt.all_params(with_grad=True) == []
    _backward(net)
    net[1].bias.grad = None
    assert len(opt.all_params(with_grad=True)) == 5


def test_skip_wd():
    net = _net()
    opt = SGD(net.parameters(), lr=0.1, wd=0.5)
    opt.skip_wd([net[0].bias])
    before = [p.detach().clone() for p in net.parameters()]
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    torch.testing.assert_close(net[0].weight.detach(), before[0] * 0.95)
    assert torch.equal(net[0].bias, before[1])
