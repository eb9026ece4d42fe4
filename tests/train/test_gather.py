"""GatherPredsCallback: what get_preds returns, gathered batch by batch."""

import torch
from torch import nn
from train_tasks import linear_task

from layered.train.gather import GatherPredsCallback
from layered.train.learner import Learner


def test_gathers_preds_targets_inputs_and_per_item_losses_in_order():
    dls, _ = linear_task(n_train=32, n_valid=24, bs=10)
    model = nn.Linear(4, 1)
    learn = Learner(dls, model, loss_func=nn.MSELoss())
    cb = GatherPredsCallback(with_input=True, with_loss=True)
    with learn.added_cbs(cb):
        learn.validate()
    out = cb.result()
    x = torch.cat([b[0] for b in dls.valid])
    y = torch.cat([b[1] for b in dls.valid])
    with torch.no_grad():
        expected = model(x)
    assert torch.allclose(out["inputs"], x) and torch.allclose(out["targets"], y)
    assert torch.allclose(out["preds"], expected)
    assert torch.allclose(out["losses"], ((expected - y) ** 2).mean(1), atol=1e-6)
    assert learn.loss_func.reduction == "mean"  # restored after the per-item losses


def test_on_batch_streams_instead_of_keeping():
    dls, _ = linear_task(n_train=32, n_valid=24, bs=10)
    sizes = []
    cb = GatherPredsCallback(on_batch=lambda xb, pred, yb, loss: sizes.append(len(pred)))
    learn = Learner(dls, nn.Linear(4, 1), loss_func=nn.MSELoss())
    with learn.added_cbs(cb):
        learn.validate()
    assert sizes == [10, 10, 4] and cb.result()["preds"] is None
