"""RNNCallback, RNNRegularizer (AR and TAR) and ModelResetter inside a real training loop."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset

from layered.data.dataloaders import DataLoaders
from layered.text.callbacks import ModelResetter, RNNCallback, RNNRegularizer
from layered.text.errors import TextError
from layered.train.callback import Callback
from layered.train.learner import Learner


class ThreeOutputs(nn.Module):
    """Returns (prediction, raw, dropped) like the text models, with outputs fixed by the input."""

    def __init__(self, n_out=3):
        super().__init__()
        self.lin = nn.Linear(4, 2)
        self.n_out = n_out
        self.resets = 0

    def forward(self, x):
        pred = self.lin(x[:, -1])
        raw = x * 2.0
        dropped = x - 1.0
        return (pred, raw, dropped)[: self.n_out]

    def reset(self):
        self.resets += 1


class Probe(Callback):
    run_after = (RNNRegularizer,)

    def __init__(self):
        self.seen = []

    def after_loss(self):
        self.seen.append(
            (
                self.learn.training,
                self.learn.xb[0],
                float(self.learn.loss_grad.detach()),
                float(self.learn.loss),
            )
        )


def make_learner(cbs, n_out=3):
    torch.manual_seed(0)
    x = torch.randn(12, 5, 4)
    y = torch.randint(0, 2, (12,))
    dls = DataLoaders(
        TorchDataLoader(TensorDataset(x, y), batch_size=4),
        TorchDataLoader(TensorDataset(x, y), batch_size=4),
        device="cpu",
    )
    return Learner(dls, ThreeOutputs(n_out), loss_func=nn.CrossEntropyLoss(), cbs=cbs, default_cbs=True)


def test_ar_and_tar_added_to_the_training_loss_only():
    probe = Probe()
    learn = make_learner([RNNCallback(), RNNRegularizer(alpha=2.0, beta=0.5), probe])
    with learn.no_logging():
        learn.fit(1, lr=0.0)
    assert len(probe.seen) == 6
    for training, xb, loss_grad, loss in probe.seen:
        raw, dropped = xb * 2.0, xb - 1.0
        ar = 2.0 * dropped.pow(2).mean()
        tar = 0.5 * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        expected = loss + float(ar + tar) if training else loss
        assert loss_grad == pytest.approx(expected, rel=1e-5)


def test_rnn_callback_hands_the_prediction_alone_to_the_loss():
    learn = make_learner([RNNCallback()])
    preds, targs = learn.get_preds()
    assert preds.shape == (12, 2) and targs.shape == (12,)
    assert learn.rnn.raw_out.shape == (4, 5, 4)


def test_regularizer_needs_rnn_callback_and_bad_outputs_are_named():
    learn = make_learner([RNNRegularizer()])
    with pytest.raises(TextError, match="needs an RNNCallback"), learn.no_logging():
        learn.fit(1)
    learn = make_learner([RNNCallback()], n_out=2)
    with pytest.raises(TextError, match="returned 2 outputs"), learn.no_logging():
        learn.fit(1)


def test_model_resetter_resets_each_phase():
    learn = make_learner([RNNCallback(), ModelResetter()])
    with learn.no_logging():
        learn.fit(2)
    assert learn.model.resets == 2 * 2 + 1  # before each training and validation pass, then after fit
