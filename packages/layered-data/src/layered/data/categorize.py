"""Targets: single-label and multi-label categories, one-hot encoding and regression targets."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from layered.core.collection import L
from layered.core.registry import register_serializable
from layered.core.tensor_types import TensorBase
from layered.core.transform import Transform
from layered.data.errors import DataError

__all__ = [
    "Categorize",
    "Category",
    "CategoryMap",
    "EncodedMultiCategorize",
    "MultiCategorize",
    "MultiCategory",
    "OneHotEncode",
    "RegressionSetup",
    "TensorCategory",
    "TensorMultiCategory",
    "TensorRegression",
]


@register_serializable
class TensorCategory(TensorBase):
    """The index of a single category (a 0-d long tensor; a batch is 1-d)."""


@register_serializable
class TensorMultiCategory(TensorBase):
    """Multi-label targets: indices, or a one-hot float vector after `OneHotEncode`."""


@register_serializable
class TensorRegression(TensorBase):
    """Continuous targets (float)."""


@register_serializable
class Category(str):
    """A decoded category label; `show` puts it as a title on a matplotlib axis or prints it."""

    def show(self, ctx=None, **kwargs):
        """Display the label on `ctx` (an Axes) or return it as text."""
        return _show_title(str(self), ctx, **kwargs)


@register_serializable
class MultiCategory(L):
    """Decoded multi-label: a list of labels, shown joined with `;`."""

    def show(self, ctx=None, sep: str = ";", **kwargs):
        """Display the labels on `ctx` (an Axes) or return them as text."""
        return _show_title(sep.join(str(o) for o in self), ctx, **kwargs)


def _show_title(text: str, ctx=None, **kwargs):
    if ctx is not None and hasattr(ctx, "set_title"):
        ctx.set_title(text, **kwargs)
        return ctx
    if isinstance(ctx, list):
        ctx.append(text)
        return ctx
    return text


@register_serializable
class CategoryMap(L):
    """A vocabulary: the sorted unique labels (optionally with `#na#` first) and its inverse `o2i`."""

    def __init__(self, items: Iterable = (), sort: bool = True, add_na: bool = False, strict: bool = False):
        labels = {}
        for i, o in enumerate(items):
            if _is_missing(o):
                continue
            try:
                labels[_hashable(o)] = None
            except TypeError:
                raise DataError(
                    f"label {o!r} (training item {i}) is a {type(o).__name__}, expected one label per "
                    "item; for several labels per item use MultiCategoryBlock"
                ) from None
        labels = list(labels)
        if sort:
            labels = sorted(labels, key=lambda o: (str(type(o)), o))
        if add_na:
            labels = ["#na#", *[o for o in labels if o != "#na#"]]
        super().__init__(labels)
        self.o2i = {o: i for i, o in enumerate(labels)}
        self.strict = strict

    def map_objs(self, objs: Iterable) -> list[int]:
        """Indices of `objs`."""
        return [self.o2i[o] for o in objs]


def _hashable(o):
    return o.item() if isinstance(o, torch.Tensor) else o


def _is_missing(o) -> bool:
    return o is None or (isinstance(o, float) and o != o)


@register_serializable
class Categorize(Transform):
    """Label ⇄ `TensorCategory` index, with the vocabulary taken from the training labels (sorted).

    A label that the vocabulary does not hold raises a `DataError` naming it, unless `add_na`,
    which maps unseen labels to the `#na#` class.
    """

    order = 1

    def __init__(self, vocab=None, sort: bool = True, add_na: bool = False):
        super().__init__()
        self.vocab = None if vocab is None else CategoryMap(vocab, sort=sort, add_na=add_na)
        self.sort, self.add_na = sort, add_na

    def setups(self, dsets):
        if self.vocab is None and dsets is not None:
            self.vocab = CategoryMap(dsets, sort=self.sort, add_na=self.add_na)
        self.c = len(self.vocab)

    def encodes(self, o):
        if self.vocab is None:
            raise DataError(
                f"Categorize has no vocabulary yet: call setup on the training labels (got {o!r})"
            )
        key = _hashable(o)
        if key not in self.vocab.o2i:
            if self.add_na:
                return TensorCategory(0)
            raise DataError(
                f"label {o!r} is not in the vocabulary built from the training labels "
                f"({_preview(self.vocab)}); unseen in training"
            )
        return TensorCategory(self.vocab.o2i[key])

    def decodes(self, o: TensorCategory):
        return Category(self.vocab[int(o)])


def _preview(vocab, n: int = 10) -> str:
    shown = ", ".join(repr(v) for v in list(vocab)[:n])
    return f"{len(vocab)} labels: {shown}" + (", ..." if len(vocab) > n else "")


@register_serializable
class MultiCategorize(Categorize):
    """A list of labels ⇄ `TensorMultiCategory` of indices; vocabulary from every training label."""

    order = 1

    def setups(self, dsets):
        if self.vocab is None and dsets is not None:
            self.vocab = CategoryMap(
                [o for labels in dsets for o in labels], sort=self.sort, add_na=self.add_na
            )
        self.c = len(self.vocab)

    def encodes(self, o):
        if isinstance(o, str):
            raise DataError(
                f"MultiCategorize expects a list of labels per item, got the string {o!r} "
                "(use label_delim in the getter to split it)"
            )
        missing = [x for x in o if _hashable(x) not in self.vocab.o2i]
        if missing:
            raise DataError(
                f"labels {missing!r} are not in the vocabulary built from the training labels "
                f"({_preview(self.vocab)})"
            )
        return TensorMultiCategory([self.vocab.o2i[_hashable(x)] for x in o])

    def decodes(self, o: TensorMultiCategory):
        return MultiCategory([self.vocab[int(i)] for i in o])


@register_serializable
class OneHotEncode(Transform):
    """Indices of a multi-label target ⇄ a one-hot float vector of length `c`."""

    order = 2

    def __init__(self, c: int | None = None):
        super().__init__()
        self.c = c

    def setups(self, dsets):
        if self.c is None:
            vocab = getattr(dsets, "vocab", None)
            self.c = len(vocab) if vocab else 1 + max((int(i) for o in dsets for i in o), default=-1)
        if not self.c:
            raise DataError("OneHotEncode needs the number of classes: pass c= or follow MultiCategorize")

    def encodes(self, o: TensorMultiCategory):
        out = torch.zeros(self.c)
        out[o.as_subclass(torch.Tensor).long()] = 1.0
        return TensorMultiCategory(out)

    def decodes(self, o: TensorMultiCategory):
        return TensorMultiCategory(torch.nonzero(o.as_subclass(torch.Tensor) > 0.5).flatten())


@register_serializable
class EncodedMultiCategorize(Categorize):
    """Targets already one-hot encoded (e.g. several 0/1 columns) ⇄ `TensorMultiCategory`, with a vocab."""

    order = 1

    def __init__(self, vocab):
        super().__init__(vocab, sort=False)
        self.c = len(self.vocab)

    def setups(self, dsets):
        self.c = len(self.vocab)

    def encodes(self, o):
        return TensorMultiCategory(torch.as_tensor(o, dtype=torch.float32))

    def decodes(self, o: TensorMultiCategory):
        return MultiCategory(
            [v for v, on in zip(self.vocab, o.as_subclass(torch.Tensor).tolist()) if on > 0.5]
        )


@register_serializable
class RegressionSetup(Transform):
    """Numbers ⇄ float `TensorRegression`; records `c`, the number of outputs."""

    def __init__(self, c: int | None = None):
        super().__init__()
        self.c = c

    def encodes(self, o):
        t = torch.as_tensor(o, dtype=torch.float32)
        if t.isnan().any():
            raise DataError(f"regression target {o!r} is NaN")
        return TensorRegression(t)

    def decodes(self, o: TensorRegression):
        return o

    def setups(self, dsets):
        if self.c is None and dsets is not None and len(dsets):
            first = torch.as_tensor(dsets[0])
            self.c = first.numel() if first.ndim else 1
