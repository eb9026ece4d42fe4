"""The loss a Learner uses when none is given, chosen from the type of the data's targets."""

from __future__ import annotations

from collections.abc import Callable

from layered.data.categorize import TensorCategory, TensorMultiCategory, TensorRegression
from layered.train.losses.flattened import BCEWithLogitsLossFlat, CrossEntropyLossFlat, MSELossFlat

__all__ = ["default_loss", "register_default_loss"]

_REGISTRY: dict[type, Callable] = {
    TensorCategory: CrossEntropyLossFlat,
    TensorMultiCategory: BCEWithLogitsLossFlat,
    TensorRegression: MSELossFlat,
}


def register_default_loss(target_type: type, make_loss: Callable) -> None:
    """Make `make_loss()` the default loss for targets of `target_type` (and its subclasses)."""
    _REGISTRY[target_type] = make_loss


def default_loss(dls) -> Callable | None:
    """The registered loss for the type of the first target of `dls`' training set, or None."""
    ds = getattr(getattr(dls, "train", None), "dataset", None)
    n_inp = getattr(dls, "n_inp", 1)
    if ds is None or not hasattr(ds, "__getitem__") or not hasattr(ds, "__len__") or len(ds) == 0:
        return None
    item = ds[0]
    if not isinstance(item, tuple) or len(item) <= n_inp:
        return None
    for cls in type(item[n_inp]).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]()
    return None
