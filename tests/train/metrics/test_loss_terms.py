"""LossMetrics: the terms a loss keeps as attributes, averaged over the set like the loss itself."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from train_tasks import linear_task, quiet

from layered.train.learner import Learner
from layered.train.metrics.loss_terms import LossMetric, LossMetrics
from layered.train.metrics.metric import MetricError


class MSEPlusL1:
    """A loss of two terms: it returns their weighted sum and keeps each as an attribute."""

    def __call__(self, pred, targ):
        pred, targ = pred.reshape(-1), targ.reshape(-1).float()
        self.mse = F.mse_loss(pred, targ)
        self.l1 = F.l1_loss(pred, targ)
        return self.mse + 0.5 * self.l1


def test_loss_terms_are_reported_beside_the_loss_over_uneven_batches():
    dls, _ = linear_task(n_valid=50)  # validation batches of 32 and 18
    torch.manual_seed(0)
    learn = quiet(Learner(dls, nn.Linear(4, 1), loss_func=MSEPlusL1(), metrics=LossMetrics("mse, l1")))
    assert [m.name for m in learn.metrics] == ["mse", "l1"]
    loss, mse, l1 = learn.validate()
    x, y = dls.valid.dataset.tensors
    with torch.no_grad():
        err = learn.model(x).reshape(-1) - y.reshape(-1)
    assert mse == pytest.approx(err.square().mean().item(), rel=1e-5)
    assert l1 == pytest.approx(err.abs().mean().item(), rel=1e-5)
    assert loss == pytest.approx(mse + 0.5 * l1, rel=1e-5)
    learn.fit(2, 0.1)
    assert learn.recorder.metric_names[-3:] == ["mse", "l1", "time"]
    assert learn.recorder.final_record[-2] < mse / 2  # the term fell as the model learned


def test_loss_metrics_names_and_bad_inputs():
    both = LossMetrics(["mse", "l1"], names=["train_mse", "train_l1"])
    assert [m.name for m in both] == ["train_mse", "train_l1"] and all(
        isinstance(m, LossMetric) for m in both
    )
    with pytest.raises(MetricError, match=r"1 names for 2 attributes \['mse', 'l1'\]"):
        LossMetrics("mse l1", names=["a"])
    with pytest.raises(MetricError, match="no attribute names given"):
        LossMetrics(" , ")
    with pytest.raises(
        MetricError, match="attr must name an attribute of the loss function, got 'not a name'"
    ):
        LossMetric("not a name")
    dls, _ = linear_task(n_valid=50)
    learn = quiet(Learner(dls, nn.Linear(4, 1), loss_func=MSEPlusL1(), metrics=LossMetrics("mse kl")))
    with pytest.raises(
        MetricError, match="the loss function MSEPlusL1 has no attribute 'kl' after this batch"
    ):
        learn.validate()
