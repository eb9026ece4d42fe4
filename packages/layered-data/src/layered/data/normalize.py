"""Generic tensor transforms: `ToTensor` for items and `Normalize` for batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from layered.core.registry import register_serializable
from layered.core.transform import ItemTransform, Transform
from layered.data.errors import DataError

__all__ = ["Normalize", "ToTensor"]


@register_serializable
class ToTensor(Transform):
    """NumPy arrays and numbers → tensors (applications add their own types, e.g. images)."""

    order = 5

    def encodes(self, o: np.ndarray):
        return torch.from_numpy(o)

    def encodes(self, o: (int, float)):  # noqa: F811 - several encodes, dispatched by type
        return torch.tensor(o)


@register_serializable
class Normalize(ItemTransform):
    """`(x - mean) / std` on the inputs of a batch, and the inverse in `decodes`.

    It sees the whole batch `(x, ..., y)` and touches only the first `n_inp` elements (learned
    from the loader in `setups`), and of those only floating-point tensors — of `types`, if given
    (e.g. images only). Statistics are given, or computed in `setups` from one training batch,
    reducing over `axes`.
    """

    order = 99

    def __init__(
        self, mean=None, std=None, axes: Sequence[int] = (0,), types: tuple | None = None, eps: float = 1e-7
    ):
        super().__init__()
        self.mean = None if mean is None else torch.as_tensor(mean, dtype=torch.float32)
        self.std = None if std is None else torch.as_tensor(std, dtype=torch.float32)
        self.axes, self.types, self.eps, self.n_inp = tuple(axes), types, eps, 1

    @classmethod
    def from_stats(cls, mean, std, dim: int = 1, ndim: int = 4, **kwargs) -> Normalize:
        """Statistics broadcast along `dim` of an `ndim`-dimensional batch (e.g. channels of images)."""
        shape = [1] * ndim
        shape[dim] = -1
        return cls(torch.as_tensor(mean).reshape(shape), torch.as_tensor(std).reshape(shape), **kwargs)

    def setups(self, dl):
        self.n_inp = getattr(dl, "n_inp", 1)
        if self.mean is not None and self.std is not None:
            return
        batch = dl.one_batch()
        x = batch[0] if isinstance(batch, tuple) else batch
        if not x.is_floating_point():
            raise DataError(f"Normalize: the first element of a batch is {x.dtype}, expected floating point")
        plain = x.as_subclass(torch.Tensor)
        self.mean = plain.mean(dim=self.axes, keepdim=True)
        self.std = plain.std(dim=self.axes, keepdim=True) + self.eps

    def _applies(self, x) -> bool:
        return (
            isinstance(x, torch.Tensor)
            and x.is_floating_point()
            and self.mean is not None
            and (self.types is None or isinstance(x, self.types))
        )

    def _map(self, b, f):
        if not isinstance(b, tuple):
            return f(b) if self._applies(b) else b
        return tuple(f(o) if i < self.n_inp and self._applies(o) else o for i, o in enumerate(b))

    def encodes(self, b):
        return self._map(b, lambda x: (x - self.mean.to(x.device)) / self.std.to(x.device))

    def decodes(self, b):
        return self._map(b, lambda x: x * self.std.to(x.device) + self.mean.to(x.device))

    def serving_module(self, types: tuple) -> list:
        """Per input position of a batch of `types`: this normalization as a module where it applies, else None.

        Used by graph exports (ONNX, `torch.export`) to put the normalization inside the graph.
        """
        if self.mean is None or self.std is None:
            raise DataError(
                f"{type(self).__name__} has no statistics yet: set it up (build the DataLoaders) first"
            )
        return [
            _Standardize(self.mean, self.std)
            if i < self.n_inp and (self.types is None or (isinstance(t, type) and issubclass(t, self.types)))
            else None
            for i, t in enumerate(types)
        ]


class _Standardize(torch.nn.Module):
    """`(x - mean) / std` with constant statistics, as `Normalize.encodes` computes it."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean.detach().cpu().float().clone())
        self.register_buffer("std", std.detach().cpu().float().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not x.is_floating_point():  # as `Normalize` leaves integer tensors alone (known when traced)
            return x
        return (x - self.mean) / self.std
