"""Hooks, model_sizes, num_features_model, HookCallback and ActivationStats (against manual statistics)."""

import pytest
import torch
from torch import nn
from train_tasks import linear_task

from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.nn.conv import ConvLayer
from layered.train.nn.hooks import (
    ActivationStats,
    Hook,
    HookCallback,
    Hooks,
    dummy_eval,
    hook_output,
    hook_outputs,
    model_sizes,
    num_features_model,
)
from layered.train.optim.algorithms import SGD


def _quiet(learn):
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))


def test_hook_stores_output_and_removes_itself():
    model = _mlp()
    x = torch.randn(5, 4)
    with hook_output(model[0]) as h:
        y = model(x)
        torch.testing.assert_close(h.stored, model[0](x))
        assert not h.stored.requires_grad and y.requires_grad
    assert h.removed and not model[0]._forward_hooks
    h.remove()  # twice is fine
    model(torch.randn(2, 4))
    assert h.stored.shape == (5, 8)  # no longer updated


def test_hook_func_gets_module_input_output():
    model = _mlp()
    x = torch.randn(3, 4)
    with Hook(model[1], lambda m, i, o: (type(m), i[0].sum(), (o > 0).sum())) as h:
        model(x)
    hidden = model[0](x).detach()
    assert h.stored == (nn.ReLU, hidden.sum(), (hidden > 0).sum())
    with Hook(model[0], lambda m, i, o: o, detach=False) as h:
        model(x)
    assert h.stored.requires_grad


def test_backward_hook_stores_output_gradient():
    model = _mlp()
    x = torch.randn(6, 4, requires_grad=True)
    with hook_output(model[0], grad=True) as h:
        hidden = model[0](x)
        hidden.retain_grad()
        model[2](model[1](hidden)).sum().backward()
    torch.testing.assert_close(h.stored, hidden.grad)


def test_hooks_store_in_module_order():
    model = _mlp()
    x = torch.randn(2, 4)
    with hook_outputs(list(model)) as hooks:
        model(x)
        assert len(hooks) == 3 and isinstance(hooks[0], Hook)
        assert [o.shape for o in hooks.stored] == [(2, 8), (2, 8), (2, 1)]
        torch.testing.assert_close(hooks.stored[1], model[0](x).relu())
    assert all(h.removed for h in hooks)
    with Hooks(list(model), lambda m, i, o: type(m).__name__) as hooks:
        model(x)
    assert hooks.stored == ["Linear", "ReLU", "Linear"]


def _convnet():
    return nn.Sequential(
        ConvLayer(3, 8, stride=2), ConvLayer(8, 16, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten()
    )


def test_model_sizes_and_dummy_eval():
    model = _convnet().train()
    sizes = model_sizes(model, (32, 24))
    assert sizes == [(1, 8, 16, 12), (1, 16, 8, 6), (1, 16, 1, 1), (1, 16)]
    assert model.training  # the mode is restored
    out = dummy_eval(model, (10, 10))
    assert out.shape == (1, 16) and not out.requires_grad
    conv1d = nn.Sequential(nn.Conv1d(2, 5, 3), nn.ReLU())
    assert model_sizes(conv1d, (9,)) == [(1, 5, 7), (1, 5, 7)]
    with pytest.raises(TrainError, match="no weight"):
        dummy_eval(nn.Sequential(nn.ReLU()))
    with pytest.raises(TrainError, match="children"):
        model_sizes(nn.Conv2d(3, 3, 1))


def test_num_features_model_grows_the_input_until_it_fits():
    assert num_features_model(_convnet()) == 16
    deep = nn.Sequential(*[nn.Conv2d(3 if i == 0 else 4, 4, 3, stride=2) for i in range(6)])
    assert num_features_model(deep) == 4  # needs at least 127 pixels: 128 is the first size that fits
    with pytest.raises(TrainError, match="no dummy input size"):
        num_features_model(nn.Sequential(nn.Conv2d(3, 4, 1000)))


def _learner(cbs, lr=0.0):
    dls, _ = linear_task(n_train=128, n_valid=32, bs=16)
    return _quiet(Learner(dls, _mlp(), loss_func=MSELossFlat(), opt_func=SGD, lr=lr, cbs=cbs))


def test_activation_stats_match_manual_computation():
    stats = ActivationStats(with_hist=True)
    learn = _learner(stats)
    learn.fit(1)  # lr 0: the weights stay put, so the statistics can be recomputed after
    batches = list(learn.dls.train)
    assert len(stats.stats) == len(batches) == 8  # training batches only
    assert len(stats.stats[0]) == 2  # the two Linear layers; ReLU has no parameters
    for i, (x, _) in enumerate(batches):
        for layer, module in enumerate([learn.model[0], learn.model[2]]):
            with torch.no_grad():
                o = learn.model[: 2 * layer + 1](x)
            s = stats.stats[i][layer]
            assert s["mean"] == pytest.approx(o.mean().item(), abs=1e-6)
            assert s["std"] == pytest.approx(o.std().item(), abs=1e-6)
            assert s["near_zero"] == pytest.approx((o.abs() <= 0.05).float().mean().item())
            torch.testing.assert_close(s["hist"], o.histc(40, 0, 10))
            assert module is learn.model[2 * layer]
    values = stats.layer_stats(0)
    assert values.shape == (3, 8)
    assert values[0, 3].item() == pytest.approx(stats.stats[3][0]["mean"])
    assert stats.hist(1).shape == (8, 40)
    assert not any(m._forward_hooks for m in learn.model.modules())


def test_activation_stats_every_and_plot():
    stats = ActivationStats(every=3)
    learn = _learner(stats, lr=0.01)
    learn.fit(2)
    assert len(stats.stats) == 6  # batches 0, 3, 6 of each 8-batch epoch
    assert not any(m._forward_hooks for m in learn.model.modules())
    with pytest.raises(TrainError, match="with_hist"):
        stats.hist(0)
    fig = stats.plot_layer_stats(1)
    assert [ax.get_title() for ax in fig.axes] == ["mean", "std", "fraction near zero"]
    assert len(fig.axes[0].lines[0].get_ydata()) == 6
    import matplotlib.pyplot as plt

    plt.close(fig)


class _Shapes(HookCallback):
    def hook(self, module, inp, out):
        return tuple(out.shape)


def test_hook_callback_on_chosen_modules_can_keep_hooks():
    cb = _Shapes(modules=None, remove_end=False, include_paramless=True)
    learn = _learner(cb)
    learn.fit(1)
    assert cb.hooks.stored == [(16, 8), (16, 8), (16, 1)]  # last batch was a validation batch
    cb.hooks.remove()
    cb = _Shapes(modules=[learn.model[1]])
    learn = _learner(cb)
    learn.fit(1)
    assert len(cb.hooks) == 1 and cb.hooks[0].removed


def test_hook_callback_needs_a_hook_method():
    class NoHook(HookCallback):
        pass

    with pytest.raises(TrainError, match="no hook method"):
        NoHook()
    with pytest.raises(TrainError, match="every"):
        ActivationStats(every=0)


class _Count(HookCallback):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def hook(self, module, inp, out):
        self.calls.append((self.learn.train_iter, self.learn.training))


def test_hook_callback_every_hooks_only_chosen_training_batches():
    cb = _Count(every=2)  # default order: runs after the iteration counter moves on
    learn = _learner(cb)
    learn.fit(1)
    layer0 = cb.calls[::2]  # two hooked Linear layers per batch
    assert layer0 == [(0, True), (2, True), (4, True), (6, True)]
    assert not any(m._forward_hooks for m in learn.model.modules())
    cb = _Count()
    _learner(cb).fit(1)
    assert len(cb.calls) == 2 * (8 + 2)  # every training and validation batch
