"""Small synthetic tasks shared by the training tests."""

import torch
from torch import nn
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset

from layered.data.dataloaders import DataLoaders


def linear_task(n_train=256, n_valid=64, bs=32, n_in=4, seed=0):
    """Regression data y = x @ w + 0.5 (noise-free) served by plain torch DataLoaders."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n_in, 1, generator=g)
    x = torch.randn(n_train + n_valid, n_in, generator=g)
    y = x @ w + 0.5
    train = TorchDataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=bs, shuffle=False)
    valid = TorchDataLoader(TensorDataset(x[n_train:], y[n_train:]), batch_size=bs)
    return DataLoaders(train, valid, device="cpu"), w


def class_task(n=512, bs=64, seed=0):
    """Two Gaussian blobs in 2-D: a classification problem a small MLP solves."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None].float() * 2 - 1) * 1.5
    k = n * 3 // 4
    train = TorchDataLoader(TensorDataset(x[:k], y[:k]), batch_size=bs, shuffle=True)
    valid = TorchDataLoader(TensorDataset(x[k:], y[k:]), batch_size=bs)
    return DataLoaders(train, valid, device="cpu")


def mlp(n_in=2, n_out=2, bn=True):
    layers = [nn.Linear(n_in, 16)] + ([nn.BatchNorm1d(16)] if bn else []) + [nn.ReLU(), nn.Linear(16, n_out)]
    return nn.Sequential(*layers)


def quiet(learn):
    """`learn` without its logger and progress bar (tests print nothing)."""
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def linear_learner(**kwargs):
    """A quiet Learner fitting a linear model to `linear_task`, and the task's true weights."""
    from layered.train.learner import Learner
    from layered.train.losses.flattened import MSELossFlat

    dls, w = linear_task()
    return quiet(Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), **kwargs)), w


def event_log():
    """A callback recording every event it sees (but `after_create`) in `.events`."""
    from layered.train.callback import Callback

    class EventLog(Callback):
        def __init__(self):
            self.events = []

        def __call__(self, event):
            if event != "after_create":
                self.events.append(event)

    return EventLog()
