"""Language-model metrics."""

from __future__ import annotations

import math

from layered.train.metric import AvgLoss

__all__ = ["Perplexity"]


class Perplexity(AvgLoss):
    """exp of the average loss over the whole set (the loss being cross entropy per token)."""

    @property
    def value(self):
        return math.exp(self.total / self.count) if self.count else None

    @property
    def name(self) -> str:
        return "perplexity"
