"""`L`: a list with NumPy-like indexing and the functional helpers a data pipeline needs."""

from __future__ import annotations

import operator
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch

__all__ = ["L"]

_MAX_REPR = 10


def _is_listy(o: Any) -> bool:
    """Whether `o` should be expanded into items: iterables other than strings, bytes and dicts."""
    if isinstance(o, (str, bytes, dict)) or o is None:
        return False
    if isinstance(o, (torch.Tensor, np.ndarray)):
        return o.ndim > 0
    return isinstance(o, Iterable)


def _as_index(idx: Any) -> Any:
    """Normalise an index: tensors and arrays become lists of ints or bools."""
    if isinstance(idx, (torch.Tensor, np.ndarray)):
        return idx.tolist() if idx.ndim else int(idx.item())
    return idx


class L(list):
    """A list that also takes NumPy-style indices and chains `map`, `filter`, `sorted`, ...

    `L(1, 2)`, `L([1, 2])` and `L(range(2))` hold items; `L('ab')` and `L(5)` hold one item;
    `L(None)` is empty. Index with an int, a slice, a list/array of ints or a boolean mask.
    """

    def __init__(self, items: Any = None, *rest: Any):
        if rest:
            items = (items, *rest)
        if items is None:
            super().__init__()
        elif _is_listy(items):
            super().__init__(items)
        else:
            super().__init__([items])

    def _new(self, items: Iterable) -> L:
        """A new collection of the same type holding `items`."""
        return type(self)(list(items))

    # indexing -------------------------------------------------------------------------
    def _positions(self, idx: Any) -> list[int]:
        if isinstance(idx, slice):
            return list(range(len(self)))[idx]
        idx = list(idx)
        if idx and all(isinstance(i, (bool, np.bool_)) for i in idx):
            if len(idx) != len(self):
                raise IndexError(f"boolean mask of length {len(idx)} for an L of length {len(self)}")
            return [i for i, keep in enumerate(idx) if keep]
        return [operator.index(i) for i in idx]

    def __getitem__(self, idx: Any) -> Any:
        idx = _as_index(idx)
        if isinstance(idx, int) or hasattr(idx, "__index__"):
            return list.__getitem__(self, operator.index(idx))
        return self._new(list.__getitem__(self, i) for i in self._positions(idx))

    def __setitem__(self, idx: Any, value: Any) -> None:
        idx = _as_index(idx)
        if isinstance(idx, int) or hasattr(idx, "__index__"):
            list.__setitem__(self, operator.index(idx), value)
            return
        positions = self._positions(idx)
        values = list(value) if _is_listy(value) else [value] * len(positions)
        if len(values) != len(positions):
            raise ValueError(f"cannot assign {len(values)} values to {len(positions)} positions")
        for i, v in zip(positions, values):
            list.__setitem__(self, i, v)

    # operators ------------------------------------------------------------------------
    def __add__(self, other: Iterable) -> L:
        return self._new([*self, *L(other)])

    def __radd__(self, other: Iterable) -> L:
        return self._new([*L(other), *self])

    def __mul__(self, n: int) -> L:
        return self._new(list.__mul__(self, n))

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, (list, tuple, L)):
            return len(self) == len(other) and all(_equal(a, b) for a, b in zip(self, other))
        return False

    __hash__ = None

    def __repr__(self) -> str:
        shown = ", ".join(repr(o) for o in list.__getitem__(self, slice(_MAX_REPR)))
        more = ", ..." if len(self) > _MAX_REPR else ""
        return f"(#{len(self)}) [{shown}{more}]"

    # functional helpers ---------------------------------------------------------------
    def map(self, f: Callable, *args: Any, **kwargs: Any) -> L:
        """`f(item, *args, **kwargs)` for every item."""
        return self._new(f(o, *args, **kwargs) for o in self)

    def filter(self, f: Callable, negate: bool = False) -> L:
        """Items for which `f` is true (or false, with `negate`)."""
        return self._new(o for o in self if bool(f(o)) != negate)

    def argwhere(self, f: Callable, negate: bool = False) -> L:
        """Positions of the items for which `f` is true (or false, with `negate`)."""
        return self._new(i for i, o in enumerate(self) if bool(f(o)) != negate)

    def attrgot(self, name: str, default: Any = None) -> L:
        """Attribute `name` of every item (dict items: key `name`), or `default` when missing."""
        return self._new(
            o.get(name, default) if isinstance(o, dict) else getattr(o, name, default) for o in self
        )

    def itemgot(self, *idxs: Any) -> L:
        """`item[i0][i1]...` for every item."""
        out = self
        for i in idxs:
            out = out._new(o[i] for o in out)
        return out

    def unique(self) -> L:
        """The distinct items, in order of first appearance."""
        return self._new(dict.fromkeys(self))

    def val2idx(self) -> dict:
        """A dict from each item to its position."""
        return {o: i for i, o in enumerate(self)}

    def sorted(self, key: Callable | str | int | None = None, reverse: bool = False) -> L:
        """A sorted copy; `key` may be a function, an attribute name or an index."""
        if isinstance(key, str):
            key = operator.attrgetter(key)
        elif isinstance(key, int):
            key = operator.itemgetter(key)
        return self._new(sorted(self, key=key, reverse=reverse))

    def sum(self) -> Any:
        """The sum of the items (0 when empty)."""
        return sum(self, start=0) if len(self) else 0

    def concat(self) -> L:
        """Flatten one level: the items of every item, in order."""
        return self._new(x for o in self for x in L(o))

    def zip(self, cycled: bool = False) -> L:
        """Transpose: tuples of the i-th element of every item (shortest wins unless `cycled`)."""
        if not cycled:
            return self._new(zip(*self))
        n = max((len(o) for o in self), default=0)
        return self._new(tuple(L(o)[i % len(L(o))] for o in self) for i in range(n))

    def enumerate(self) -> L:
        """`(index, item)` pairs."""
        return self._new(enumerate(self))

    def shuffle(self) -> L:
        """A shuffled copy (uses `random`, so `set_seed` makes it repeatable)."""
        items = list(self)
        random.shuffle(items)
        return self._new(items)

    def first(self) -> Any:
        """The first item, or None when empty."""
        return list.__getitem__(self, 0) if len(self) else None

    def __iter__(self) -> Iterator:
        return list.__iter__(self)

    @classmethod
    def range(cls, a: int, b: int | None = None, step: int | None = None) -> L:
        """`L(range(a))` or `L(range(a, b, step))`."""
        if b is None:
            return cls(list(range(a)))
        return cls(list(range(a, b, step or 1)))

    @classmethod
    def split(cls, s: str, sep: str | None = None, maxsplit: int = -1) -> L:
        """`L` of the parts of `s` split on `sep`."""
        return cls(s.split(sep, maxsplit))


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, (torch.Tensor, np.ndarray)) or isinstance(b, (torch.Tensor, np.ndarray)):
        try:
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
        except (TypeError, ValueError):
            return False
    return a == b
