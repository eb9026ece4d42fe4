"""Blocks: what a kind of data needs at each stage (type, item and batch transforms, loader type)."""

from __future__ import annotations

from layered.data.categorize import (
    Categorize,
    EncodedMultiCategorize,
    MultiCategorize,
    OneHotEncode,
    RegressionSetup,
)

__all__ = ["CategoryBlock", "MultiCategoryBlock", "RegressionBlock", "TransformBlock"]


def _as_list(x) -> list:
    return [] if x is None else list(x) if isinstance(x, (list, tuple)) else [x]


class TransformBlock:
    """The transforms one element of an item needs: `type_tfms` build it from the raw getter output,
    `item_tfms` run per item, `batch_tfms` per batch; `dl_type` and `dls_kwargs` shape the loaders."""

    def __init__(self, type_tfms=None, item_tfms=None, batch_tfms=None, dl_type=None, dls_kwargs=None):
        self.type_tfms = _as_list(type_tfms)
        self.item_tfms = _as_list(item_tfms)
        self.batch_tfms = _as_list(batch_tfms)
        self.dl_type, self.dls_kwargs = dl_type, dict(dls_kwargs or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(type_tfms={self.type_tfms})"


def CategoryBlock(vocab=None, sort: bool = True, add_na: bool = False) -> TransformBlock:
    """A single-label classification target (vocabulary from the training labels)."""
    return TransformBlock(type_tfms=Categorize(vocab=vocab, sort=sort, add_na=add_na))


def MultiCategoryBlock(encoded: bool = False, vocab=None, add_na: bool = False) -> TransformBlock:
    """A multi-label target: a list of labels, one-hot encoded (or already encoded 0/1 columns)."""
    if encoded:
        return TransformBlock(type_tfms=EncodedMultiCategorize(vocab=vocab))
    one_hot = OneHotEncode(c=None if vocab is None else len(vocab) + bool(add_na))
    return TransformBlock(type_tfms=[MultiCategorize(vocab=vocab, add_na=add_na), one_hot])


def RegressionBlock(n_out: int | None = None) -> TransformBlock:
    """A continuous target (one or several numbers)."""
    return TransformBlock(type_tfms=RegressionSetup(c=n_out))
