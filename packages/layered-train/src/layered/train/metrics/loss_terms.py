"""The terms of a loss made of several, reported as metrics next to the total.

A loss that adds up several terms (a reconstruction error and a KL divergence, a content and a
style loss) returns their sum for training and keeps each term, from its latest call, as an
attribute. `LossMetrics("mse kl")` turns those attributes into metrics, each averaged over the
validation set weighted by batch size, as the loss itself is:

```python
class ReconstructionAndKL:
    def __call__(self, pred, targ):
        self.mse = F.mse_loss(pred[0], targ)
        self.kl = kl_divergence(pred[1])
        return self.mse + 0.1 * self.kl

learn = Learner(dls, model, loss_func=ReconstructionAndKL(), metrics=LossMetrics("mse kl"))
```
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from layered.train.metrics.metric import AvgLoss, MetricError

__all__ = ["LossMetric", "LossMetrics"]


class LossMetric(AvgLoss):
    """The loss function's attribute `attr` after each batch (one term of the loss), averaged over the set.

    The mean is weighted by batch size, as the loss is, so a loss term that is a mean over items
    averages exactly. `name` is the column name (default: `attr`).
    """

    def __init__(self, attr: str, name: str | None = None):
        if not isinstance(attr, str) or not attr.isidentifier():
            raise MetricError(f"LossMetric: attr must name an attribute of the loss function, got {attr!r}")
        self.attr, self._name = attr, name
        super().__init__()

    def batch_value(self, learn) -> Any:
        loss_func = getattr(learn, "loss_func", None)
        if not hasattr(loss_func, self.attr):
            raise MetricError(
                f"LossMetric({self.attr!r}): the loss function {type(loss_func).__name__} has no attribute "
                f"{self.attr!r} after this batch; a loss reports a term by setting it as an attribute "
                "each time it is called"
            )
        return getattr(loss_func, self.attr)

    @property
    def name(self) -> str:
        return self._name or self.attr


def LossMetrics(attrs: str | Sequence[str], names: Sequence[str] | None = None) -> list[LossMetric]:
    """One `LossMetric` per attribute of `attrs` (a list, or names separated by commas or spaces).

    `names` gives their column names (default: the attribute names).
    """
    attrs = [a for a in re.split(r"[,\s]+", attrs) if a] if isinstance(attrs, str) else list(attrs)
    if not attrs:
        raise MetricError("LossMetrics: no attribute names given")
    names = list(attrs) if names is None else list(names)
    if len(names) != len(attrs):
        raise MetricError(f"LossMetrics: {len(names)} names for {len(attrs)} attributes {attrs}")
    return [LossMetric(a, n) for a, n in zip(attrs, names)]
