"""Perplexity: the exponential of the average loss over the items (uneven batches weighted by size)."""

import math
from types import SimpleNamespace

import pytest
import torch

from layered.train.metrics.text import Perplexity


def test_perplexity_is_exp_of_the_item_weighted_mean_loss():
    item_losses = torch.linspace(0.5, 2.5, 50)
    perplexity = Perplexity()
    assert perplexity.value is None and perplexity.name == "perplexity"
    perplexity.reset()
    start = 0
    for n in (7, 30, 1, 12):  # uneven: a plain mean of batch losses would be wrong
        chunk = item_losses[start : start + n]
        perplexity.accumulate(SimpleNamespace(pred=chunk, yb=(chunk,), xb=(chunk,), loss=chunk.mean()))
        start += n
    assert perplexity.value == pytest.approx(math.exp(item_losses.mean().item()), rel=1e-6)
