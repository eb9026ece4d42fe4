"""`SubsetViews`: `train`, `valid` and every subset of a collection split by `splits` (TfmdLists, Datasets)."""

from __future__ import annotations

from typing import Any

__all__ = ["SubsetViews"]


class SubsetViews:
    """Mixin: the subsets of a collection that has `splits` and `subset(i)` (0: training, 1: validation)."""

    splits: Any

    def subset(self, i: int) -> Any:
        raise NotImplementedError

    @property
    def n_subsets(self) -> int:
        """Number of subsets (splits)."""
        return len(self.splits)

    @property
    def subsets(self) -> list:
        """Every subset, in the order of the splits."""
        return [self.subset(i) for i in range(self.n_subsets)]

    @property
    def train(self) -> Any:
        """The training subset (split 0)."""
        return self.subset(0)

    @property
    def valid(self) -> Any:
        """The validation subset (split 1)."""
        return self.subset(1)
