"""The Metric API: averaging, whole-set accumulation, smoothed loss, wrapping, and mk_metric."""

import functools
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from layered.core.tensor_types import TensorBase
from layered.train.errors import TrainError
from layered.train.metrics.metric import (
    AccumMetric,
    AvgLoss,
    AvgMetric,
    AvgSmoothLoss,
    Metric,
    MetricError,
    ValueMetric,
    flatten_check,
    mk_metric,
    skm_to_layered,
)

G = torch.Generator().manual_seed(0)
SIZES = (7, 30, 1, 12)  # uneven, so a plain mean of batch values would be wrong
N = sum(SIZES)


def batches(*tensors, sizes=SIZES):
    """Slices of each tensor along dim 0, one tuple per batch."""
    start = 0
    for n in sizes:
        yield tuple(t[start : start + n] for t in tensors)
        start += n


def feed(metric, preds, targs, losses=None):
    """Run one validation pass of `metric` over the uneven batches, as the Learner does."""
    metric.reset()
    losses = torch.zeros(len(preds)) if losses is None else losses
    for p, t, loss in batches(preds, targs, losses):
        metric.accumulate(SimpleNamespace(pred=p, yb=(t,), xb=(p,), loss=loss.mean()))
    return metric.value


def mean_abs(pred, targ):
    return (pred - targ).abs().mean()


def test_avg_metric_weights_batches_by_size():
    preds, targs = torch.randn(N, generator=G), torch.randn(N, generator=G)
    expected = (preds - targs).abs().mean().item()
    per_batch = np.mean([mean_abs(p, t).item() for p, t in batches(preds, targs)])
    assert feed(AvgMetric(mean_abs), preds, targs) == pytest.approx(expected, rel=1e-6)
    assert per_batch != pytest.approx(expected, rel=1e-3)  # the weighting matters on these batches


def test_avg_metric_names_and_batch_size_without_targets():
    assert AvgMetric(mean_abs).name == "mean_abs"
    assert AvgMetric(functools.partial(mean_abs)).name == "mean_abs"

    class MeanAbsError:
        def __call__(self, pred, targ):
            return mean_abs(pred, targ)

    assert AvgMetric(MeanAbsError()).name == "mean_abs_error"
    loss = AvgLoss()
    for bs, value in ((2, 1.0), (6, 3.0)):  # no targets: the batch size comes from the inputs
        loss.accumulate(SimpleNamespace(xb=(torch.zeros(bs, 4),), yb=(), loss=torch.tensor(value)))
    assert loss.value == pytest.approx((2 * 1.0 + 6 * 3.0) / 8) and loss.name == "loss"
    with pytest.raises(MetricError, match="AvgMetric needs a function"):
        AvgMetric(3)


def test_avg_loss_and_perplexity_are_exact_over_the_set():
    item_losses = torch.rand(N, generator=G) + 0.5
    dummy = torch.zeros(N)
    mean = item_losses.mean().item()
    assert feed(AvgLoss(), dummy, dummy, item_losses) == pytest.approx(mean, rel=1e-6)


def test_avg_smooth_loss_is_a_debiased_moving_average():
    losses, beta = [4.0, 2.0, 3.0, 1.0], 0.9
    smooth = AvgSmoothLoss(beta=beta)
    assert smooth.value is None and smooth.name == "smooth_loss"
    avg = 0.0
    for t, v in enumerate(losses, start=1):
        smooth.accumulate(SimpleNamespace(loss=torch.tensor(v)))
        avg = beta * avg + (1 - beta) * v
        assert smooth.value == pytest.approx(avg / (1 - beta**t))
    smooth.accumulate(SimpleNamespace(loss=torch.tensor(5.0)))
    smooth.reset()
    smooth.accumulate(SimpleNamespace(loss=torch.tensor(7.0)))
    assert smooth.value == pytest.approx(7.0)  # debiasing makes the first value exact
    with pytest.raises(MetricError, match="beta"):
        AvgSmoothLoss(beta=1.0)


def test_value_metric_reads_its_function_at_the_end():
    state = {"best": 0.25}
    metric = ValueMetric(lambda: state["best"], name="best_so_far")
    state["best"] = 0.5
    assert metric.value == 0.5 and metric.name == "best_so_far"

    def lr_now():
        return 1e-3

    assert ValueMetric(lr_now).name == "lr_now" and ValueMetric(lr_now).value == 1e-3


def test_accum_metric_computes_once_on_the_whole_set():
    preds, targs = torch.randn(N, generator=G), torch.randn(N, generator=G)
    calls = []

    def root_mse(p, t):
        calls.append(len(p))
        return ((p - t) ** 2).mean().sqrt()

    metric = AccumMetric(root_mse)
    assert metric.value is None
    value = feed(metric, preds, targs)
    assert isinstance(value, float) and calls == [N]
    assert value == pytest.approx(((preds - targs) ** 2).mean().sqrt().item(), rel=1e-6)
    per_batch = np.mean([((p - t) ** 2).mean().sqrt().item() for p, t in batches(preds, targs)])
    assert per_batch != pytest.approx(value, rel=1e-3)
    metric.reset()
    assert metric.value is None and metric.name == "root_mse"


def test_accum_metric_activations():
    logits, labels = torch.randn(N, 3, generator=G), torch.randint(0, 3, (N,), generator=G)

    def stored(**kwargs):
        metric = AccumMetric(lambda p, t: p, flatten=False, **kwargs)
        return feed(metric, logits, labels)

    assert torch.allclose(stored(activation="softmax"), torch.softmax(logits, -1))
    assert torch.equal(stored(activation="argmax"), logits.argmax(-1))
    assert torch.equal(stored(dim_argmax=1), logits.argmax(1))  # 'no' with dim_argmax takes the argmax
    assert torch.equal(stored(activation="sigmoid", thresh=0.6), (torch.sigmoid(logits) >= 0.6).long())
    assert torch.equal(stored(), logits)
    with pytest.raises(MetricError, match="activation must be one of") as info:
        AccumMetric(lambda p, t: p, activation="relu")
    assert isinstance(info.value, ValueError) and isinstance(info.value, TrainError)


def test_accum_metric_arguments_numpy_kwargs_and_plain_detached_storage():
    preds = TensorBase(torch.randn(N, 2, generator=G).requires_grad_())
    targs = torch.randint(0, 2, (N, 2), generator=G)
    seen = {}

    def record(first, second, scale):
        seen.update(first=first, second=second)
        return np.float64(scale)

    metric = AccumMetric(record, to_np=True, invert_arg=True, name="rec", scale=2.5)
    assert feed(metric, preds, targs) == 2.5 and metric.name == "rec"
    assert isinstance(seen["first"], np.ndarray) and seen["first"].shape == (2 * N,)
    np.testing.assert_array_equal(seen["first"], targs.reshape(-1).numpy())  # targets first
    assert all(type(p) is torch.Tensor and not p.requires_grad for p in metric.preds)
    metric = AccumMetric(lambda p, t: p)
    with pytest.raises(MetricError, match=r"<lambda>: 6 predictions \(shape \(3, 2\)\) for 3 targets"):
        metric.accumulate(SimpleNamespace(pred=torch.zeros(3, 2), yb=(torch.zeros(3),)))
    with pytest.raises(MetricError, match="needs targets"):
        metric.accumulate(SimpleNamespace(pred=torch.zeros(3), yb=()))


def test_flatten_check():
    p, t = flatten_check(TensorBase(torch.zeros(2, 3)), torch.ones(6))
    assert p.shape == t.shape == (6,) and type(p) is torch.Tensor
    with pytest.raises(MetricError, match=r"my_metric: 6 predictions \(shape \(2, 3\)\) for 5 targets"):
        flatten_check(torch.zeros(2, 3), torch.zeros(5), "my_metric")


def test_skm_to_layered_wraps_sklearn_metrics():
    from sklearn.metrics import accuracy_score, f1_score, r2_score

    logits, labels = torch.randn(N, 4, generator=G), torch.randint(0, 4, (N,), generator=G)
    acc = skm_to_layered(accuracy_score)
    assert acc.name == "accuracy_score"
    assert feed(acc, logits, labels) == pytest.approx(accuracy_score(labels, logits.argmax(1)))
    multi = torch.randint(0, 2, (N, 4), generator=G)
    f1 = skm_to_layered(f1_score, thresh=0.4, flatten=False, average="micro")
    expected = f1_score(multi, (torch.sigmoid(logits) >= 0.4).long(), average="micro")
    assert feed(f1, logits, multi) == pytest.approx(expected)
    preds, targs = torch.randn(N, generator=G), torch.randn(N, generator=G)
    assert feed(skm_to_layered(r2_score, is_class=False), preds, targs) == pytest.approx(
        r2_score(targs, preds), rel=1e-5
    )


def test_importing_the_metrics_does_not_import_scikit_learn():
    code = (
        "import sys\n"
        "import layered.train.metrics.metric, layered.train.metrics.classification, layered.train.metrics.regression\n"
        "import layered.train.metrics.segmentation, layered.train.metrics.text, layered.train.losses.flattened\n"
        "assert 'sklearn' not in sys.modules, 'scikit-learn was imported with the metrics'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_mk_metric_and_default_names():
    class RocAUCScore(Metric):
        @property
        def value(self):
            return 1.0

    instance = RocAUCScore()
    assert mk_metric(instance) is instance and instance.name == "roc_auc_score"
    made = mk_metric(RocAUCScore)
    assert isinstance(made, RocAUCScore) and made is not instance
    avg = mk_metric(mean_abs)
    assert isinstance(avg, AvgMetric) and avg.func is mean_abs
    with pytest.raises(MetricError, match="does not derive from Metric"):
        mk_metric(dict)
    with pytest.raises(MetricError, match=r"got 0\.5") as info:
        mk_metric(0.5)
    assert isinstance(info.value, TypeError)
