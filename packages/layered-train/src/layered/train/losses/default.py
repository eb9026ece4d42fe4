"""The loss a Learner uses when none is given: one registry, keyed by the type of the data's targets.

This is the only place that decides "which loss". Each domain registers its target types where
it defines them (vision: masks and points; text: language-model targets); layered-data's types
are registered here. A loss the data names itself (`DataLoaders(..., loss_func=...)`) is the
user's explicit choice and wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from layered.data.categorize import TensorCategory, TensorMultiCategory, TensorRegression
from layered.train.losses.flattened import BCEWithLogitsLossFlat, CrossEntropyLossFlat, MSELossFlat

__all__ = ["default_loss", "register_default_loss", "target_type"]

_REGISTRY: dict[type, Callable[[], Any]] = {
    TensorCategory: CrossEntropyLossFlat,
    TensorMultiCategory: BCEWithLogitsLossFlat,
    TensorRegression: MSELossFlat,
}


def register_default_loss(target_type: type, make_loss: Callable[[], Any]) -> None:
    """Make `make_loss()` the default loss for targets of `target_type` (and its subclasses)."""
    if not isinstance(target_type, type) or not callable(make_loss):
        raise TypeError(
            f"register_default_loss needs a type and a callable that makes a loss, got "
            f"{target_type!r} and {make_loss!r}"
        )
    _REGISTRY[target_type] = make_loss


def target_type(dls: Any) -> type | None:
    """The type of the training targets of `dls`, or None when it cannot tell.

    A loader or dataset that declares `target_type` says it (tables, whose batches are plain
    tensors; language models, whose targets are made by the loader); otherwise it is the type of
    the target of the training set's first item.
    """
    dl = getattr(dls, "train", None)
    ds = getattr(dl, "dataset", None)
    for holder in (dl, ds):
        declared = getattr(holder, "target_type", None)
        if isinstance(declared, type):
            return declared
    if ds is None or not hasattr(ds, "__getitem__") or not hasattr(ds, "__len__") or len(ds) == 0:
        return None
    item = ds[0]
    n_inp = getattr(dls, "n_inp", 1)
    if not isinstance(item, tuple) or len(item) <= n_inp:
        return None
    return type(item[n_inp])


def default_loss(dls: Any) -> Any:
    """The loss `dls` names (`dls.loss_func`), else the one registered for its `target_type`, else None."""
    named = getattr(dls, "loss_func", None)
    if named is not None:
        return named
    kind = target_type(dls)
    for cls in kind.__mro__ if kind is not None else ():
        if cls in _REGISTRY:
            return _REGISTRY[cls]()
    return None
