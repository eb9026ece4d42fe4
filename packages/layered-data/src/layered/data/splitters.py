"""Splitters: functions from the items to `(train_indices, valid_indices)`.

Each `XSplitter(...)` returns a `Splitter`: called on the items, it gives `(train, valid)`, two
sorted lists of ints (`.positions(items)`: the same as int64 arrays). The items may be a list, a
range, an array, a tensor or a DataFrame (its rows): only their number matters, except to
`FuncSplitter`, `ColSplitter` and the path splitters. Splits are computed on NumPy arrays (a
random sample, a boolean mask), never by shuffling or sorting Python lists, so a million items
split in milliseconds. Every split is checked by `check_splits` before it is returned, so an
empty or overlapping split fails at once, naming the splitter and the sizes, not later in
training.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from layered.data.errors import DataError

__all__ = [
    "ColSplitter",
    "EndSplitter",
    "FileSplitter",
    "FuncSplitter",
    "GrandparentSplitter",
    "IndexSplitter",
    "MaskSplitter",
    "RandomSplitter",
    "RandomSubsetSplitter",
    "Splitter",
    "TrainTestSplitter",
    "check_splits",
]

Splits = tuple[list[int], list[int]]


def _label(k: int) -> str:
    return ("train split", "valid split")[k] if k < 2 else f"split {k}"


def _positions(split: Any, what: str) -> np.ndarray:
    """`split` (a list, range, array or tensor of item positions) as a 1-d int64 array."""
    a = np.asarray(split)
    kind = a.dtype.kind
    whole = kind in "iu" or (kind == "f" and bool((a == np.round(a)).all()))
    if a.size and not whole:
        hint = " (for a boolean mask use MaskSplitter)" if kind == "b" else ""
        raise DataError(f"{what} must hold integer item positions, got {a.dtype} values{hint}")
    return a.astype(np.int64, copy=False).reshape(-1)


def _check_range(positions: np.ndarray, n: int, name: str, k: int) -> None:
    bad = positions[(positions < 0) | (positions >= n)]
    if len(bad):
        raise DataError(
            f"{name}: the {_label(k)} has indices {np.unique(bad)[:5].tolist()} outside 0..{n - 1}"
        )


def _mask(positions: np.ndarray, n: int) -> np.ndarray:
    """A boolean array of `n` items, true at `positions` (which must be in range)."""
    out = np.zeros(n, dtype=bool)
    out[positions] = True
    return out


def _sorted(positions: np.ndarray, n: int) -> np.ndarray:
    """Distinct `positions` (of `n` items) in increasing order: a mask, not a sort, so linear time."""
    return np.flatnonzero(_mask(positions, n))


def _disjoint_and_in_range(arrays: list[np.ndarray], n: int) -> bool:
    """The fast verdict: every split non-empty, inside `0..n-1`, without repeats and disjoint from the others."""
    seen = np.zeros(n, dtype=bool)
    for a in arrays:
        if not len(a) or a.min() < 0 or a.max() >= n or seen[a].any():
            return False
        seen[a] = True
    # no overlap was found, so fewer marked items than positions means a split repeats one
    return int(np.count_nonzero(seen)) == sum(len(a) for a in arrays)


def _raise_first_problem(arrays: list[np.ndarray], n: int, name: str) -> None:
    """Name what is wrong with the splits: the first empty, out-of-range or repeating split, else the first overlap."""
    sizes = f"sizes {[len(a) for a in arrays]} of {n} items"
    masks = []
    for k, a in enumerate(arrays):
        if not len(a):
            raise DataError(f"{name}: the {_label(k)} is empty ({sizes})")
        _check_range(a, n, name, k)
        mask = _mask(a, n)
        repeats = len(a) - int(np.count_nonzero(mask))
        if repeats:
            raise DataError(f"{name}: the {_label(k)} repeats items ({repeats} duplicates)")
        masks.append(mask)
    for a in range(len(masks)):
        for b in range(a + 1, len(masks)):
            both = np.flatnonzero(masks[a] & masks[b])
            if len(both):
                raise DataError(
                    f"{name}: splits {a} and {b} overlap on {len(both)} items, e.g. index {both[0]} ({sizes})"
                )


def check_splits(splits: Sequence[Sequence[int]], n: int, name: str = "splitter") -> None:
    """Raise a `DataError` if a split is empty, repeats an index, indexes past `n` items or overlaps another.

    Vectorised: one boolean array of the `n` items marks what each split takes.
    """
    if len(splits) < 1:
        raise DataError(f"{name} returned no split for {n} items")
    arrays = [_positions(s, f"{name}: the {_label(k)}") for k, s in enumerate(splits)]
    if not _disjoint_and_in_range(arrays, n):
        _raise_first_problem(arrays, n, name)


class Splitter:
    """A named split function: `splitter(items)` gives `(train, valid)`, two sorted lists of item positions.

    `splitter.positions(items)` gives the same split as two int64 arrays, skipping the lists:
    what large tables (`TabularPandas`, collab ratings) use. Either way the split is checked
    by `check_splits` first.
    """

    def __init__(self, name: str, split: Callable[[Any], tuple[np.ndarray, np.ndarray]]):
        self.__name__ = self.__qualname__ = name
        self._split = split

    def positions(self, items: Any) -> tuple[np.ndarray, np.ndarray]:
        """The checked split of `items` as two sorted int64 arrays (training, validation)."""
        train, valid = (np.asarray(a, dtype=np.int64) for a in self._split(items))
        check_splits((train, valid), len(items), self.__name__)
        return train, valid

    def __call__(self, items: Any) -> Splits:
        train, valid = self.positions(items)
        return train.tolist(), valid.tolist()

    def __repr__(self) -> str:
        return self.__name__


def _mask_split(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions where `valid` is false (training) and true (validation), both sorted."""
    return np.flatnonzero(~valid), np.flatnonzero(valid)


def _generator(seed: int | None) -> np.random.Generator:
    # without a seed, one draw from Python's global generator: `set_seed` makes the split repeatable
    return np.random.default_rng(seed if seed is not None else random.getrandbits(64))


def _check_seed(seed: Any, name: str) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise DataError(f"{name}: seed must be a non-negative integer or None, got {seed!r}")


def _fraction(value: float, name: str, what: str = "valid_pct") -> None:
    if not 0 < value < 1:
        raise DataError(f"{name}: {what} must be between 0 and 1 (exclusive), got {value}")


def RandomSplitter(valid_pct: float = 0.2, seed: int | None = None) -> Splitter:
    """A random `valid_pct` of the items for validation (repeatable with `seed`, else from `random`)."""
    _fraction(valid_pct, "RandomSplitter")
    _check_seed(seed, "RandomSplitter")

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(items)
        chosen = _generator(seed).choice(n, int(round(valid_pct * n)), replace=False, shuffle=False)
        return _mask_split(_mask(chosen, n))

    return Splitter(f"RandomSplitter(valid_pct={valid_pct}, seed={seed})", split)


def EndSplitter(valid_pct: float = 0.2, valid_last: bool = True) -> Splitter:
    """The last `valid_pct` of the items for validation (the first, with `valid_last=False`): for ordered data such as time series."""
    _fraction(valid_pct, "EndSplitter")

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(items)
        cut = int(round(valid_pct * n))
        if valid_last:
            return np.arange(n - cut), np.arange(n - cut, n)
        return np.arange(cut, n), np.arange(cut)

    return Splitter(f"EndSplitter(valid_pct={valid_pct}, valid_last={valid_last})", split)


def _count(size: float | int | None, n: int, what: str, name: str = "TrainTestSplitter") -> int | None:
    """A fraction of `n` (a float) or a number of items (an int), validated."""
    if size is None:
        return None
    k = int(round(size * n)) if isinstance(size, float) else int(size)
    if (isinstance(size, float) and not 0 < size < 1) or not 0 < k < n:
        raise DataError(f"{name}: {what}={size} gives {k} of {n} items; expected 1..{n - 1}")
    return k


def RandomSubsetSplitter(train_sz: float | int, valid_sz: float | int, seed: int | None = None) -> Splitter:
    """Random, disjoint subsets of `train_sz` and `valid_sz` items (fractions or numbers); the rest is left out.

    For quick experiments on part of a large dataset; repeatable with `seed`, else from `random`.
    """
    name = f"RandomSubsetSplitter(train_sz={train_sz}, valid_sz={valid_sz}, seed={seed})"
    _check_seed(seed, name)
    for what, size in (("train_sz", train_sz), ("valid_sz", valid_sz)):
        if isinstance(size, float):
            _fraction(size, name, what)
    if isinstance(train_sz, float) and isinstance(valid_sz, float) and train_sz + valid_sz > 1:
        raise DataError(f"{name}: train_sz + valid_sz must be at most 1, got {train_sz + valid_sz}")

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(items)
        n_train, n_valid = _count(train_sz, n, "train_sz", name), _count(valid_sz, n, "valid_sz", name)
        if n_train + n_valid > n:
            raise DataError(f"{name}: {n_train} train + {n_valid} valid items exceed the {n} items")
        chosen = _generator(seed).choice(n, n_train + n_valid, replace=False)  # in random order
        return _sorted(chosen[:n_train], n), _sorted(chosen[n_train:], n)

    return Splitter(name, split)


def IndexSplitter(valid_idx: Sequence[int]) -> Splitter:
    """The items at `valid_idx` (a list, range, array or tensor of positions) for validation, the rest for training."""
    valid = _positions(valid_idx, "IndexSplitter: valid_idx")

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(items)
        _check_range(valid, n, "IndexSplitter", 1)
        return _mask_split(_mask(valid, n))  # repeated positions count once

    return Splitter("IndexSplitter", split)


def MaskSplitter(mask: Sequence[bool]) -> Splitter:
    """Items where `mask` (a list, array, tensor or Series of booleans) is true for validation."""
    m = np.asarray(mask, dtype=bool).reshape(-1)

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        if len(m) != len(items):
            raise DataError(f"MaskSplitter: the mask has {len(m)} entries for {len(items)} items")
        return _mask_split(m)

    return Splitter("MaskSplitter", split)


def _rows(items: Any):
    """The items one by one (a DataFrame's rows, not its column names)."""
    return (row for _, row in items.iterrows()) if hasattr(items, "iterrows") else items


def FuncSplitter(func: Callable[[Any], Any], batched: bool = False) -> Splitter:
    """Items for which `func(item)` is true for validation (a DataFrame is passed row by row).

    With `batched=True`, `func` is called once on all the items (a DataFrame, array or tensor)
    and returns one boolean per item (e.g. `lambda df: df["year"] >= 2020`): vectorised, so fast
    on a million rows.
    """
    name = f"FuncSplitter({getattr(func, '__name__', func)})"

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(items)
        if not batched:
            return _mask_split(np.fromiter((bool(func(o)) for o in _rows(items)), dtype=bool, count=n))
        mask = np.asarray(func(items))
        if mask.dtype != bool or mask.shape != (n,):
            raise DataError(
                f"{name}: with batched=True, func must return one boolean per item ({n}), got {mask.dtype} "
                f"values of shape {mask.shape}"
            )
        return _mask_split(mask)

    return Splitter(name, split)


def GrandparentSplitter(train_name: str = "train", valid_name: str = "valid") -> Splitter:
    """Split paths by their grandparent folder (`.../train/label/file`, `.../valid/label/file`).

    Items under neither folder are left out of both splits.
    """

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        names = np.array([Path(o).parent.parent.name for o in items], dtype=object)
        return np.flatnonzero(names == train_name), np.flatnonzero(names == valid_name)

    return Splitter(f"GrandparentSplitter({train_name!r}, {valid_name!r})", split)


def FileSplitter(fname: str | Path) -> Splitter:
    """Items whose file name is listed (one per line) in the text file `fname` go to validation."""
    fname = Path(fname)
    if not fname.is_file():
        raise DataError(f"FileSplitter: the list of validation files {fname} does not exist")
    valid_names = {line.strip() for line in fname.read_text().splitlines() if line.strip()}

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        return _mask_split(np.array([Path(o).name in valid_names for o in items], dtype=bool))

    return Splitter(f"FileSplitter({fname.name})", split)


def ColSplitter(col: str | int = "is_valid", on: Any = None) -> Splitter:
    """Split a DataFrame by a column: rows where it is true (or equal to `on`) go to validation.

    An int `col` that is not a column name is taken as a position. The comparison runs on the
    whole column at once (pandas), so it is fast on a million rows.
    """
    name = f"ColSplitter({col!r})" if on is None else f"ColSplitter({col!r}, on={on!r})"

    def split(df: Any) -> tuple[np.ndarray, np.ndarray]:
        columns = list(getattr(df, "columns", ()))
        if not columns:
            raise DataError(f"{name}: expected a DataFrame, got {type(df).__name__}")
        if col in columns:
            values = df[col]
        elif isinstance(col, int) and -len(columns) <= col < len(columns):
            values = df.iloc[:, col]
        else:
            raise DataError(f"{name}: no column {col!r} (columns: {columns})")
        if on is not None:
            return _mask_split((values == on).to_numpy(dtype=bool, na_value=False))
        is_bool = pd.api.types.is_bool_dtype(values.dtype) and not values.hasnans
        if not is_bool and not values.isin([0, 1]).all():
            found = pd.unique(values.to_numpy())[:5].tolist()
            raise DataError(f"{name}: column {col!r} is not boolean (values {found}...); pass on=<value>")
        return _mask_split(values.to_numpy(dtype=bool))

    return Splitter(name, split)


def _allocate(counts: np.ndarray, k: int) -> np.ndarray:
    """Share `k` among classes in proportion to `counts`, summing exactly to `k` (largest remainders)."""
    quota = counts * k / counts.sum()
    out = np.floor(quota).astype(int)
    extra = k - out.sum()
    # stable sort: among equal remainders the first classes get the extra items
    out[np.argsort(-(quota - out), kind="stable")[:extra]] += 1
    return out


# up to this many classes, each class draws its own sample; beyond, one permutation of all items is cheaper
_PER_CLASS_DRAWS = 256


def _grouped_by_class(
    codes: np.ndarray, counts: np.ndarray, wanted: np.ndarray, rng: np.random.Generator | None
):
    """Item positions grouped by class code; with `rng`, each class's first `wanted` a random sample of it."""
    if rng is not None and len(counts) > _PER_CLASS_DRAWS:
        # one permutation of all items, then a stable regroup: each class in random order
        order = rng.permutation(len(codes))
        return order[np.argsort(codes[order], kind="stable")]
    grouped = np.argsort(codes, kind="stable")  # a radix sort on small integer codes
    if rng is None:
        return grouped
    for start, count, k in zip((np.cumsum(counts) - counts).tolist(), counts.tolist(), wanted.tolist()):
        # a partial shuffle: only the `k` drawn items cost anything; the rest keep their order
        picked = rng.choice(count, k, replace=False)
        rest = np.ones(count, dtype=bool)
        rest[picked] = False
        block = grouped[start : start + count]
        grouped[start : start + count] = np.concatenate([block[picked], block[rest]])
    return grouped


def _stratified(labels: Any, n_test: int, n_train: int, rng: np.random.Generator | None):
    """Per class, a sample of the items (test, then train; in order without `rng`), class shares kept."""
    values = labels if isinstance(labels, (pd.Series, pd.Index, np.ndarray)) else np.asarray(labels)
    codes, classes = pd.factorize(values, sort=True)
    if (codes < 0).any():
        raise DataError(
            f"TrainTestSplitter: stratify has a missing label at item {int(np.argmax(codes < 0))}"
        )
    counts = np.bincount(codes, minlength=len(classes))
    test_k = _allocate(counts, n_test)
    # train shares come from what each class has left, so no class is asked for more than it has
    train_k = _allocate(counts - test_k, n_train)
    # when train takes all the rest, only the test items need drawing
    wanted = np.where(test_k + train_k == counts, test_k, test_k + train_k)
    small = codes.astype(np.int16 if len(classes) < 2**15 else np.int64)
    grouped = _grouped_by_class(small, counts, wanted, rng)
    klass = np.repeat(np.arange(len(classes)), counts)
    rank = np.arange(len(codes)) - np.repeat(np.cumsum(counts) - counts, counts)  # position within the class
    test = rank < test_k[klass]
    train = ~test & (rank < (test_k + train_k)[klass])
    return _sorted(grouped[train], len(codes)), _sorted(grouped[test], len(codes))


def TrainTestSplitter(
    test_size: float | int = 0.2,
    random_state: int | None = None,
    stratify: Sequence | None = None,
    train_size: float | int | None = None,
    shuffle: bool = True,
) -> Splitter:
    """A random split into train and test parts; with `stratify` (one class per item), class shares are kept.

    Sizes are fractions (floats) or numbers of items (ints); `train_size` defaults to the rest.
    `shuffle=False` takes the items (of each class) in order.
    """

    def split(items: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(items)
        n_test = _count(test_size, n, "test_size")
        n_train = _count(train_size, n, "train_size") or n - n_test
        if n_test + n_train > n:
            raise DataError(f"TrainTestSplitter: {n_train} train + {n_test} test items exceed the {n} items")
        rng = np.random.default_rng(random_state)
        if stratify is not None:
            if len(stratify) != n:
                raise DataError(f"TrainTestSplitter: stratify has {len(stratify)} labels for {n} items")
            return _stratified(stratify, n_test, n_train, rng if shuffle else None)
        if not shuffle:
            return np.arange(n_test, n_test + n_train), np.arange(n_test)
        test = _mask(rng.choice(n, n_test, replace=False, shuffle=False), n)
        rest = np.flatnonzero(~test)
        if n_train < len(rest):
            rest = _sorted(rest[rng.choice(len(rest), n_train, replace=False, shuffle=False)], n)
        return rest, np.flatnonzero(test)

    return Splitter("TrainTestSplitter", split)
