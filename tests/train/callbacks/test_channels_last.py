"""ChannelsLast: model and 4-D inputs in NHWC memory layout, same results as NCHW."""

import torch
from torch import nn
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset

from layered.data.dataloaders import DataLoaders
from layered.train.callback import Callback
from layered.train.callbacks.channels_last import ChannelsLast
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.optim.algorithms import SGD


class Layouts(Callback):
    order = 30

    def before_fit(self):
        self.inputs = []

    def before_batch(self):
        self.inputs.append(self.learn.xb[0].is_contiguous(memory_format=torch.channels_last))


def make_learner(cbs=()):
    torch.manual_seed(0)
    x, y = torch.randn(32, 3, 6, 6), torch.randint(0, 2, (32,))
    ds = TensorDataset(x, y)
    dls = DataLoaders(TorchDataLoader(ds, batch_size=8), TorchDataLoader(ds, batch_size=8), device="cpu")
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)
    )
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), opt_func=SGD, lr=0.1, cbs=list(cbs))
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_channels_last_converts_model_and_inputs_without_changing_results():
    probe = Layouts()
    learn = make_learner([ChannelsLast(), probe])
    learn.fit(1)
    assert probe.inputs and all(probe.inputs)
    assert learn.model[0].weight.is_contiguous(memory_format=torch.channels_last)
    plain_probe = Layouts()
    plain = make_learner([plain_probe])
    plain.fit(1)
    assert not any(plain_probe.inputs)
    for p, q in zip(learn.model.parameters(), plain.model.parameters()):
        assert torch.allclose(p, q, atol=1e-6)
    assert not torch.equal(plain.model[0].weight, make_learner().model[0].weight)
