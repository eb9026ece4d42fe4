"""Tabular loaders that sample: rows drawn by weight, or a random part of the table each epoch.

`TabularDataLoaders.from_to(to, wgts=...)` (and `from_df`, `to.dataloaders`) makes the training
loader a `WeightedTabDataLoader`; `partial_n=...` a `PartialTabDataLoader`. Both keep slicing
whole batches from the table's tensors (`layered.data.sampling` changes only the indices).
"""

from __future__ import annotations

from layered.core.registry import register_serializable
from layered.data.sampling import PartialSampling, WeightedSampling
from layered.tabular.tab_loader import TabDataLoader

__all__ = ["PartialTabDataLoader", "WeightedTabDataLoader"]


@register_serializable
class WeightedTabDataLoader(WeightedSampling, TabDataLoader):
    """A `TabDataLoader` drawing rows by weight (`wgts`, one per row) each shuffled epoch."""


@register_serializable
class PartialTabDataLoader(PartialSampling, TabDataLoader):
    """A `TabDataLoader` visiting `partial_n` random rows each shuffled epoch."""
