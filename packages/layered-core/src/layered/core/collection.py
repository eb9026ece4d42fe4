"""`L`: a list with NumPy-like indexing and the functional helpers a data pipeline needs."""

from __future__ import annotations

import functools
import itertools
import operator
import random
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from layered.core.errors import LayeredError
from layered.core.registry import register_serializable

__all__ = ["L", "LIndexError"]

_MAX_REPR = 10
_BOOL_TYPES = {bool, np.bool_}


class LIndexError(LayeredError, IndexError):
    """An index that `L` cannot use: wrong type, out of range, mask of the wrong length, or
    a number of values that does not match the positions they are assigned to."""


def _is_listy(o: Any) -> bool:
    """Whether `o` is expanded into items: iterables other than str, bytes, dict and 0-d arrays."""
    if o is None or isinstance(o, (str, bytes, dict)):
        return False
    if isinstance(o, (torch.Tensor, np.ndarray)):
        return o.ndim > 0
    return isinstance(o, Iterable)


def _as_index(idx: Any) -> Any:
    """Arrays and tensors become plain Python indices: a scalar, or a list of ints or bools."""
    if isinstance(idx, (torch.Tensor, np.ndarray)):
        return idx.tolist() if idx.ndim else idx.item()
    return idx


def _is_scalar_index(idx: Any) -> bool:
    return isinstance(idx, int) or (hasattr(idx, "__index__") and not _is_listy(idx))


def _equal(a: Any, b: Any) -> bool:
    """Item equality that also works for tensors and arrays, whose `==` is elementwise."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.device == b.device and bool(torch.eq(a, b).all())
    if isinstance(a, (torch.Tensor, np.ndarray)) or isinstance(b, (torch.Tensor, np.ndarray)):
        try:
            return bool(
                np.array_equal(*(x.detach().cpu().numpy() if torch.is_tensor(x) else x for x in (a, b)))
            )
        except (TypeError, ValueError, RuntimeError):  # types NumPy cannot compare are simply unequal
            return False
    return bool(a == b)


@register_serializable
class L(list):
    """A list that also takes NumPy-style indices and chains `map`, `filter`, `sorted`, ...

    `L(1, 2)`, `L([1, 2])`, `L(range(2))` and `L(np.arange(2))` hold two items; a single
    str, bytes, dict, 0-d tensor or other non-iterable is one item (`L('ab') == ['ab']`), and
    `L(None)` is empty. Index (and assign, and delete) with an int, a slice, a list or an
    integer array/tensor of positions, or a boolean mask as long as the L. Methods that return
    a collection return `self._new(items)`, which a subclass overrides when its constructor
    takes other arguments.
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
        """The positions an index (other than a single int) selects, each in `range(-n, n)`."""
        n = len(self)
        if isinstance(idx, slice):
            return list(range(n)[idx])
        if not _is_listy(idx):
            raise LIndexError(
                f"L index: expected an int, a slice, a list/array of ints or a boolean mask, "
                f"found {type(idx).__name__} {idx!r}"
            )
        idx = list(idx)
        kinds = set(map(type, idx))  # one pass in C, instead of a Python-level check per entry
        if kinds and kinds <= _BOOL_TYPES:
            if len(idx) != n:
                raise LIndexError(f"L index: boolean mask of length {len(idx)} for an L of length {n}")
            return list(itertools.compress(range(n), idx))
        if not kinds <= {int}:  # numpy/torch integers, or entries that are not positions at all
            bad = next((i for i in idx if not _is_scalar_index(i)), None)
            if bad is not None:
                raise LIndexError(f"L index: expected integer positions, found {type(bad).__name__} {bad!r}")
            idx = [operator.index(i) for i in idx]
        if idx and not (-n <= min(idx) and max(idx) < n):
            bad = next(i for i in idx if not -n <= i < n)
            raise LIndexError(f"L index: position {bad} is out of range for an L of length {n}")
        return idx

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, int):  # the common case in loaders: keep it cheap
            return list.__getitem__(self, idx)
        idx = _as_index(idx)
        if _is_scalar_index(idx):
            return list.__getitem__(self, operator.index(idx))
        if isinstance(idx, slice):
            return self._new(list.__getitem__(self, idx))
        return self._new(list.__getitem__(self, i) for i in self._positions(idx))

    def __setitem__(self, idx: Any, value: Any) -> None:
        idx = _as_index(idx)
        if _is_scalar_index(idx):
            list.__setitem__(self, operator.index(idx), value)
            return
        if isinstance(idx, slice) and _is_listy(value):
            # plain list semantics, so `t[:] = []` or `t[1:2] = [a, b]` may resize the L
            list.__setitem__(self, idx, list(value))
            return
        positions = self._positions(idx)
        values = list(value) if _is_listy(value) else [value] * len(positions)
        if len(values) != len(positions):
            raise LIndexError(f"L assignment: {len(values)} values for {len(positions)} positions")
        for i, v in zip(positions, values):
            list.__setitem__(self, i, v)

    def __delitem__(self, idx: Any) -> None:
        idx = _as_index(idx)
        if _is_scalar_index(idx):
            list.__delitem__(self, operator.index(idx))
            return
        # from the end, so earlier deletions do not shift the positions still to delete
        n = len(self)
        for i in sorted({i % n for i in self._positions(idx)}, reverse=True):
            list.__delitem__(self, i)

    # operators ------------------------------------------------------------------------
    def __add__(self, other: Any) -> L:
        return self._new([*self, *L(other)])

    def __radd__(self, other: Any) -> L:
        return self._new([*L(other), *self])

    def __iadd__(self, other: Any) -> L:
        self.extend(L(other))
        return self

    def __mul__(self, n: int) -> L:
        return self._new(list.__mul__(self, n))

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list):
            return NotImplemented
        return len(self) == len(other) and all(_equal(a, b) for a, b in zip(self, other))

    def __ne__(self, other: object) -> bool:
        # list defines its own __ne__, which would bypass the tensor-aware __eq__ above
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __repr__(self) -> str:
        shown = ", ".join(repr(o) for o in list.__getitem__(self, slice(_MAX_REPR)))
        more = ", ..." if len(self) > _MAX_REPR else ""
        return f"(#{len(self)}) [{shown}{more}]"

    def copy(self) -> L:
        """A shallow copy of the same type."""
        return self._new(self)

    # functional helpers ---------------------------------------------------------------
    def map(self, f: Callable, *args: Any, **kwargs: Any) -> L:
        """`f(item, *args, **kwargs)` for every item."""
        return self._new(f(o, *args, **kwargs) for o in self)

    def map_dict(self, f: Callable | None = None, *args: Any, **kwargs: Any) -> dict:
        """A dict from each item to `f(item, *args, **kwargs)` (to the item itself without `f`)."""
        return {o: o if f is None else f(o, *args, **kwargs) for o in self}

    def filter(self, f: Callable, negate: bool = False) -> L:
        """Items for which `f` is true (or false, with `negate`)."""
        return self._new(o for o in self if bool(f(o)) != negate)

    def argwhere(self, f: Callable, negate: bool = False) -> L:
        """Positions of the items for which `f` is true (or false, with `negate`)."""
        return self._new(i for i, o in enumerate(self) if bool(f(o)) != negate)

    def attrgot(self, name: str, default: Any = None) -> L:
        """Attribute `name` of every item (key `name` of dict items), or `default` where missing."""
        return self._new(
            o.get(name, default) if isinstance(o, dict) else getattr(o, name, default) for o in self
        )

    def itemgot(self, *idxs: Any) -> L:
        """`item[i0][i1]...` for every item."""
        return self._new(functools.reduce(operator.getitem, idxs, o) for o in self)

    def unique(self) -> L:
        """The distinct items (which must be hashable), in order of first appearance."""
        return self._new(dict.fromkeys(self))

    def val2idx(self) -> dict:
        """A dict from each item to its position (the last one, for repeated items)."""
        return {o: i for i, o in enumerate(self)}

    def enumerate(self) -> L:
        """`(index, item)` pairs."""
        return self._new(enumerate(self))

    def first(self) -> Any:
        """The first item, or None when empty."""
        return list.__getitem__(self, 0) if self else None

    def sorted(self, key: Callable | str | int | None = None, reverse: bool = False) -> L:
        """A sorted copy; `key` may be a function, an attribute name or an index into each item."""
        if isinstance(key, str):
            key = operator.attrgetter(key)
        elif isinstance(key, int):
            key = operator.itemgetter(key)
        return self._new(sorted(self, key=key, reverse=reverse))

    def sum(self) -> Any:
        """The items added together with `+` (0 when empty), so tensors and lists work too."""
        return functools.reduce(operator.add, self) if self else 0

    def concat(self) -> L:
        """Flatten one level: the items of every item, in order (a non-listy item counts as one)."""
        return self._new(x for o in self for x in L(o))

    def zip(self, cycled: bool = False) -> L:
        """Transpose: tuples of the i-th element of every item.

        The shortest item sets the length; with `cycled`, the longest does and shorter items
        repeat from their start.
        """
        if not cycled:
            return self._new(zip(*self))
        n = max((len(o) for o in self), default=0)
        return self._new(zip(*(itertools.islice(itertools.cycle(o), n) for o in self)))

    def shuffle(self) -> L:
        """A shuffled copy (drawn from `random`, so `set_seed` makes it repeatable)."""
        items = list(self)
        random.shuffle(items)
        return self._new(items)

    @classmethod
    def range(cls, a: int, b: int | None = None, step: int | None = None) -> L:
        """`L(range(a))`, or `L(range(a, b, step))`, like the builtin `range`."""
        start, stop = (0, a) if b is None else (a, b)
        return cls(list(range(start, stop, 1 if step is None else step)))

    @classmethod
    def split(cls, s: str, sep: str | None = None, maxsplit: int = -1) -> L:
        """The parts of `s` split on `sep` (on whitespace without it)."""
        return cls(s.split(sep, maxsplit))
