"""Shared by the metric tests: feed predictions to a metric in uneven batches, as the Learner does."""

from types import SimpleNamespace

import torch

from layered.train.metrics.metric import mk_metric


def feed(metric, preds, targs, sizes):
    """One validation pass over batches of `sizes`; returns the metric's value."""
    metric = mk_metric(metric)
    metric.reset()
    start = 0
    for n in sizes:
        p, t = preds[start : start + n], targs[start : start + n]
        metric.accumulate(SimpleNamespace(pred=p, yb=(t,), xb=(p,), loss=torch.tensor(0.0)))
        start += n
    return metric.value
