"""Lookahead: slow weights synced every k steps, the wrapped optimizer's interface, exact resume, ranger."""

import copy
import pickle

import pytest
import torch
from torch import nn
from train_tasks import class_task, mlp

from layered.core.seed import set_seed
from layered.train.errors import TrainError
from layered.train.optim.algorithms import SGD, Adam, RAdam, ranger
from layered.train.optim.lookahead import Lookahead
from layered.train.optim.torch_optimizer import OptimWrapper


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()


def _groups(net):
    return [list(m.parameters()) for m in net]


def _backward(net, seed):
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    net(x).pow(2).mean().backward()


def _run(net, opt, seeds):
    for s in seeds:
        _backward(net, s)
        opt.step()
        opt.zero_grad()


def test_slow_weights_move_alpha_of_the_way_every_k_steps():
    p = nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = Lookahead(SGD([p], lr=0.1), k=3, alpha=0.25)
    grads = [torch.tensor(g, dtype=torch.float64) for g in ([1.0, 0.0], [2.0, 1.0], [0.0, 4.0], [1.0, 1.0])]
    fast = torch.tensor([1.0, -2.0], dtype=torch.float64)
    for i, g in enumerate(grads[:3]):
        p.grad = g
        opt.step()
        fast = fast - 0.1 * g
        if i < 2:  # between syncs the model follows the fast weights
            torch.testing.assert_close(p.detach(), fast)
            assert opt.count == i + 1
    slow = torch.tensor([1.0, -2.0], dtype=torch.float64)
    slow = slow + 0.25 * (fast - slow)
    torch.testing.assert_close(p.detach(), slow)
    torch.testing.assert_close(opt.slow[0][0], slow)
    assert opt.count == 0
    p.grad = grads[3]
    opt.step()  # the next cycle starts from the slow weights
    torch.testing.assert_close(p.detach(), slow - 0.1 * grads[3])


def test_wrapping_adam_matches_a_plain_torch_lookahead_loop():
    ours, ref = _net(), _net()
    opt = Lookahead(Adam(ours.parameters(), lr=0.05, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0), k=4, alpha=0.5)
    torch_opt = torch.optim.Adam(ref.parameters(), lr=0.05, betas=(0.9, 0.999), eps=1e-8)
    slow = [p.detach().clone() for p in ref.parameters()]
    for t in range(1, 11):
        _run(ours, opt, [t])
        _run(ref, torch_opt, [t])
        if t % 4 == 0:
            with torch.no_grad():
                for s, p in zip(slow, ref.parameters()):
                    s += 0.5 * (p - s)
                    p.copy_(s)
    for a, b in zip(ours.parameters(), ref.parameters()):
        # Adam divides by the root of tiny squared gradients here, which magnifies rounding
        torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-9)
    plain = _net()
    _run(plain, Adam(plain.parameters(), lr=0.05, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0), range(1, 11))
    assert not torch.allclose(ours[0].weight, plain[0].weight)


def test_state_dict_round_trip_continues_exactly():
    net = _net()
    twin = copy.deepcopy(net)
    _run(net, ranger(_groups(net), lr=0.01, k=4), range(10))

    opt = ranger(_groups(twin), lr=0.01, k=4)
    _run(twin, opt, range(6))  # mid-cycle: 2 fast steps since the last sync
    assert opt.count == 2
    sd = opt.state_dict()
    saved = copy.deepcopy(twin)
    _run(twin, opt, [99])  # the saved state must not follow the live optimizer
    fresh = ranger(_groups(saved), lr=0.5, k=6, alpha=0.9)
    fresh.load_state_dict(pickle.loads(pickle.dumps(sd)))
    assert (fresh.k, fresh.alpha, fresh.count) == (4, 0.5, 2)
    assert fresh.hypers[0]["lr"] == 0.01
    _run(saved, fresh, range(6, 10))
    for a, b in zip(net.parameters(), saved.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_load_state_dict_checks_what_it_gets():
    net = _net()
    opt = Lookahead(SGD(_groups(net), lr=0.1), k=2)
    _run(net, opt, [0])
    with pytest.raises(TrainError, match="a Lookahead state dict"):
        opt.load_state_dict(SGD(_groups(net), lr=0.1).state_dict())
    other = Lookahead(SGD([list(net[0].parameters()), list(net[1].parameters()), [net[2].weight]], lr=0.1))
    with pytest.raises(TrainError, match="group 2 saved 2 slow weights, this one has 1"):
        other.load_state_dict(opt.state_dict())
    wider = nn.Linear(3, 5).double()
    mismatched = Lookahead(SGD([list(wider.parameters()), *_groups(net)[1:]], lr=0.1))
    with pytest.raises(
        TrainError, match=r"slow weight 0 of group 0 has shape \(4, 3\), its parameter \(5, 3\)"
    ):
        mismatched.load_state_dict(opt.state_dict())


def test_keeps_the_wrapped_optimizer_interface():
    net = _net()
    inner = SGD(_groups(net), lr=0.1, mom=0.9)
    opt = Lookahead(inner)
    opt.set_hyper("lr", slice(1e-3, 1e-1))
    assert [h["lr"] for h in inner.hypers] == pytest.approx([1e-3, 1e-2, 1e-1])
    assert opt.hypers is inner.hypers and opt.param_groups[2]["lr"] == pytest.approx(0.1)
    opt.mark_norm_params(net[1].parameters())
    opt.train_bn = False  # settings land on the wrapped optimizer, which acts on them
    assert inner.train_bn is False and "train_bn" not in vars(opt)
    opt.freeze()
    assert [p.requires_grad for p in net.parameters()] == [False, False, False, False, True, True]
    opt.unfreeze()
    assert hasattr(opt, "skip_wd")
    assert not hasattr(Lookahead(OptimWrapper(net.parameters(), torch.optim.SGD, lr=0.1)), "skip_wd")
    _run(net, opt, [0])
    assert opt.slow is not None and inner.state
    opt.clear_state()
    assert opt.slow is None and opt.count == 0 and inner.state == {}
    clone = copy.deepcopy(opt)
    assert clone.k == 6 and clone.opt is not inner
    assert repr(opt).startswith("Lookahead(k=6, alpha=0.5, Optimizer(")


def test_wraps_a_torch_optimizer_through_optim_wrapper():
    ours, ref = _net(), _net()
    opt = Lookahead(OptimWrapper(ours.parameters(), torch.optim.SGD, lr=0.1, mom=0.9), k=2, alpha=0.5)
    same = Lookahead(SGD(ref.parameters(), lr=0.1, mom=0.9), k=2, alpha=0.5)
    _run(ours, opt, range(5))
    _run(ref, same, range(5))
    for a, b in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((object(),), "must be a layered optimizer"),
        ((None, 0), "k .* must be an int >= 1, got 0"),
        ((None, 2.0), "must be an int >= 1, got 2.0"),
        ((None, 6, 0.0), r"alpha .* must be in \(0, 1\], got 0.0"),
        ((None, 6, 1.5), "got 1.5"),
    ],
)
def test_bad_arguments_are_named(args, match):
    opt = args[0] if args[0] is not None else SGD(_net().parameters(), lr=0.1)
    with pytest.raises(TrainError, match=match):
        Lookahead(opt, *args[1:])


def test_ranger_is_lookahead_over_radam_and_trains_a_tiny_model():
    set_seed(0)
    net = mlp()
    opt = ranger(net.parameters(), lr=0.03)
    assert isinstance(opt, Lookahead) and (opt.k, opt.alpha) == (6, 0.5)
    assert opt.hypers[0] == {"lr": 0.03, "mom": 0.95, "sqr_mom": 0.99, "eps": 1e-6, "wd": 0.01, "beta": 0.0}
    twin = copy.deepcopy(net)
    same = Lookahead(RAdam(twin.parameters(), lr=0.03, mom=0.95, eps=1e-6, wd=0.01), k=6, alpha=0.5)
    loss_func = nn.CrossEntropyLoss()
    x, y = next(iter(class_task(n=256, bs=256).train))
    losses = []
    for model, o in ((net, opt), (twin, same)):
        losses.append([])
        for _ in range(60):
            loss = loss_func(model(x), y)
            losses[-1].append(loss.item())
            loss.backward()
            o.step()
            o.zero_grad()
    assert losses[0] == losses[1]
    assert losses[0][-1] < 0.3 * losses[0][0]
