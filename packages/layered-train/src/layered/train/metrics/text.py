"""Language-model metrics."""

from __future__ import annotations

import math

from layered.train.metrics.metric import AvgLoss

__all__ = ["Perplexity"]


class Perplexity(AvgLoss):
    """exp of the mean loss over the whole set; with a per-token cross entropy, the perplexity.

    The exponential is taken once, of the batch-size weighted mean loss, so the value does not
    depend on how the set was cut into batches (a mean of per-batch perplexities would).
    """

    @property
    def value(self) -> float | None:
        mean_loss = super().value
        return None if mean_loss is None else math.exp(mean_loss)

    @property
    def name(self) -> str:
        return "perplexity"
