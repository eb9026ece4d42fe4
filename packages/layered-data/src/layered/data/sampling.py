"""Sampling loaders: items drawn by weight (`WeightedDL`), or a random part of the data each epoch (`PartialDL`).

Both only change which indices an epoch visits (`get_idxs`, drawn from the epoch's generator
`rng`, so `set_seed` repeats them and a resumed fit replays them), so they keep the in-memory
fast path, workers and persistent workers. Without `shuffle` (prediction, `get_preds` on the
training set) they visit every item once, in order.

```python
dls = dsets.weighted_dataloaders(wgts, bs=64)    # item i drawn with probability wgts[i] / sum(wgts)
dls = dsets.partial_dataloaders(1000, bs=64)     # 1000 different random items each epoch
```
The sampling is a mixin (`WeightedSampling`, `PartialSampling`) over any loader class; the
tabular and collab packages pair it with their own loaders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from layered.core.registry import register_serializable
from layered.data.errors import DataError
from layered.data.loader import _Permutation
from layered.data.tfmd_loader import TfmdDL

__all__ = [
    "PartialDL",
    "PartialSampling",
    "WeightedDL",
    "WeightedSampling",
    "check_weights",
    "sampled_train_type",
]


def check_weights(wgts: Any, n: int, owner: str) -> torch.Tensor:
    """`wgts` as a float64 tensor of `n` finite, non-negative weights, not all zero; else a `DataError` naming the item."""
    try:
        w = torch.as_tensor(np.asarray(wgts, dtype=np.float64))
    except (TypeError, ValueError) as e:
        raise DataError(
            f"{owner}: wgts must be numbers (one per item), got {type(wgts).__name__}: {e}"
        ) from e
    if w.ndim != 1 or len(w) != n:
        raise DataError(f"{owner}: wgts has shape {tuple(w.shape)}; expected one weight per item, ({n},)")
    bad = (~torch.isfinite(w)).nonzero().flatten()
    if len(bad):
        raise DataError(f"{owner}: wgts[{int(bad[0])}] is {float(w[bad[0]])}; weights must be finite numbers")
    negative = (w < 0).nonzero().flatten()
    if len(negative):
        i = int(negative[0])
        raise DataError(f"{owner}: wgts[{i}] is {float(w[i])}; weights must be >= 0")
    if n and not w.sum() > 0:
        raise DataError(f"{owner}: every weight is zero; at least one item needs a positive weight")
    return w


class WeightedSampling:
    """Loader mixin: each shuffled epoch draws `n` indices with replacement, item `i` with probability `wgts[i] / sum(wgts)`."""

    def __init__(self, dataset: Any = None, *args: Any, wgts: Any = None, **kwargs: Any):
        if wgts is None:
            raise DataError(f"{type(self).__name__}: give wgts, one weight per item")
        self.wgts = wgts  # checked against the dataset's length by `_check`, here and in `new`
        super().__init__(dataset, *args, **kwargs)

    def _check(self) -> None:
        super()._check()
        self.wgts = check_weights(self.wgts, self.n, type(self).__name__)

    def get_idxs(self) -> Sequence | None:
        """With `shuffle`, `n` indices drawn by weight from this epoch's generator; else every index in order."""
        if not self.shuffle or not self.n:
            return super().get_idxs()
        g = torch.Generator().manual_seed(self.rng.getrandbits(63))
        return _Permutation(torch.multinomial(self.wgts, self.n, replacement=True, generator=g))


class PartialSampling:
    """Loader mixin: each shuffled epoch visits `partial_n` different items drawn at random (a new draw every epoch)."""

    def __init__(self, dataset: Any = None, *args: Any, partial_n: int | None = None, **kwargs: Any):
        self.partial_n = partial_n
        super().__init__(dataset, *args, **kwargs)

    def _check(self) -> None:
        super()._check()
        name, p = type(self).__name__, self.partial_n
        if not isinstance(p, (int, np.integer)) or isinstance(p, bool) or p < 1:
            raise DataError(f"{name}: partial_n must be a positive integer (items per epoch), got {p!r}")
        if self.n is not None and p > self.n:
            raise DataError(f"{name}: partial_n is {p}, more than the dataset's {self.n} items")

    @property
    def _epoch_n(self) -> int:
        return self.partial_n if self.shuffle else self.n

    def __len__(self) -> int:
        n = self._epoch_n
        if self.bs is None:
            return n
        return n // self.bs if self.drop_last else -(-n // self.bs)

    def get_idxs(self) -> Sequence | None:
        """With `shuffle`, `partial_n` distinct indices from this epoch's generator; else every index in order."""
        if not self.shuffle:
            return super().get_idxs()
        g = torch.Generator().manual_seed(self.rng.getrandbits(63))
        return _Permutation(torch.randperm(self.n, generator=g)[: self.partial_n])


@register_serializable
class WeightedDL(WeightedSampling, TfmdDL):
    """A `TfmdDL` drawing its items by weight: `WeightedDL(dataset, wgts=..., bs=..., shuffle=True)`."""


@register_serializable
class PartialDL(PartialSampling, TfmdDL):
    """A `TfmdDL` visiting `partial_n` random items per epoch: `PartialDL(dataset, partial_n=..., shuffle=True)`."""


def sampled_train_type(
    kind: type, wgts: Any, partial_n: int | None, shuffle: bool, weighted: type, partial: type, owner: str
) -> tuple[type, dict]:
    """The training loader's class and extra keywords when `wgts` or `partial_n` is given (else `kind`, no keywords).

    `kind` is the class the loader would have; `weighted` and `partial` are its sampling variants.
    A `kind` that already samples is kept; any other class than the plain one is refused by name.
    """
    if wgts is None and partial_n is None:
        return kind, {}
    if wgts is not None and partial_n is not None:
        raise DataError(f"{owner}: give wgts or partial_n, not both")
    mixin, variant, extra = (
        (WeightedSampling, weighted, {"wgts": wgts})
        if wgts is not None
        else (PartialSampling, partial, {"partial_n": partial_n})
    )
    if not shuffle:
        raise DataError(f"{owner}: {next(iter(extra))} samples the shuffled training loader; shuffle is off")
    if issubclass(kind, mixin):
        return kind, extra
    if not issubclass(variant, kind):
        raise DataError(
            f"{owner}: {next(iter(extra))} needs a loader that samples ({variant.__name__}); this data's "
            f"loader is {kind.__name__}: give dl_type a class with {mixin.__name__}"
        )
    return variant, extra
