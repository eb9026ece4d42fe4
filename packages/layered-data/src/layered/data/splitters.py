"""Splitters: functions from the items to `(train_indices, valid_indices)`.

Each `XSplitter(...)` returns a function `split(items) -> (train, valid)` (two sorted lists of
ints). Every split is checked by `check_splits` before it is returned, so an empty or
overlapping split fails at once, naming the splitter and the sizes, not later in training.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from layered.data.errors import DataError

__all__ = [
    "ColSplitter",
    "FileSplitter",
    "FuncSplitter",
    "GrandparentSplitter",
    "IndexSplitter",
    "MaskSplitter",
    "RandomSplitter",
    "TrainTestSplitter",
    "check_splits",
]

Splits = tuple[list[int], list[int]]
Splitter = Callable[[Any], Splits]


def _label(k: int) -> str:
    return ("train split", "valid split")[k] if k < 2 else f"split {k}"


def check_splits(splits: Sequence[Sequence[int]], n: int, name: str = "splitter") -> None:
    """Raise a `DataError` if a split is empty, repeats an index, indexes past `n` items or overlaps another."""
    if len(splits) < 1:
        raise DataError(f"{name} returned no split for {n} items")
    sizes = f"sizes {[len(s) for s in splits]} of {n} items"
    sets = [{int(i) for i in s} for s in splits]
    for k, (s, raw) in enumerate(zip(sets, splits)):
        if not s:
            raise DataError(f"{name}: the {_label(k)} is empty ({sizes})")
        if len(s) != len(raw):
            raise DataError(f"{name}: the {_label(k)} repeats items ({len(raw) - len(s)} duplicates)")
        bad = sorted(i for i in s if not 0 <= i < n)
        if bad:
            raise DataError(f"{name}: the {_label(k)} has indices {bad[:5]} outside 0..{n - 1}")
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            both = sets[a] & sets[b]
            if both:
                raise DataError(
                    f"{name}: splits {a} and {b} overlap on {len(both)} items, "
                    f"e.g. index {min(both)} ({sizes})"
                )


def _checked(name: str, split: Callable[[Any], Splits]) -> Splitter:
    """Wrap `split` so that its result is validated and the function carries `name`."""

    def checked(items: Any) -> Splits:
        train, valid = split(items)
        check_splits((train, valid), len(items), name)
        return train, valid

    checked.__name__ = checked.__qualname__ = name
    return checked


def _rows(items: Any):
    """The items one by one (a DataFrame's rows, not its column names)."""
    return (row for _, row in items.iterrows()) if hasattr(items, "iterrows") else items


def _mask_split(mask: np.ndarray) -> Splits:
    return np.flatnonzero(~mask).tolist(), np.flatnonzero(mask).tolist()


def RandomSplitter(valid_pct: float = 0.2, seed: int | None = None) -> Splitter:
    """A random `valid_pct` of the items for validation (repeatable with `seed`, else from `random`)."""
    if not 0 < valid_pct < 1:
        raise DataError(f"RandomSplitter: valid_pct must be between 0 and 1 (exclusive), got {valid_pct}")

    def split(items: Any) -> Splits:
        # without a seed, Python's global generator: `set_seed` makes it repeatable
        rng = random.Random(seed) if seed is not None else random
        idxs = list(range(len(items)))
        rng.shuffle(idxs)
        cut = int(round(valid_pct * len(idxs)))
        return sorted(idxs[cut:]), sorted(idxs[:cut])

    return _checked(f"RandomSplitter(valid_pct={valid_pct}, seed={seed})", split)


def IndexSplitter(valid_idx: Sequence[int]) -> Splitter:
    """The items at `valid_idx` for validation, the rest for training."""
    valid = sorted({int(i) for i in valid_idx})

    def split(items: Any) -> Splits:
        chosen = set(valid)
        return [i for i in range(len(items)) if i not in chosen], list(valid)

    return _checked("IndexSplitter", split)


def MaskSplitter(mask: Sequence[bool]) -> Splitter:
    """Items where `mask` is true for validation."""
    m = np.asarray(mask, dtype=bool)

    def split(items: Any) -> Splits:
        if len(m) != len(items):
            raise DataError(f"MaskSplitter: the mask has {len(m)} entries for {len(items)} items")
        return _mask_split(m)

    return _checked("MaskSplitter", split)


def FuncSplitter(func: Callable[[Any], bool]) -> Splitter:
    """Items for which `func(item)` is true for validation (a DataFrame is passed row by row)."""

    def split(items: Any) -> Splits:
        return _mask_split(np.array([bool(func(o)) for o in _rows(items)], dtype=bool))

    return _checked(f"FuncSplitter({getattr(func, '__name__', func)})", split)


def GrandparentSplitter(train_name: str = "train", valid_name: str = "valid") -> Splitter:
    """Split paths by their grandparent folder (`.../train/label/file`, `.../valid/label/file`).

    Items under neither folder are left out of both splits.
    """

    def split(items: Any) -> Splits:
        names = [Path(o).parent.parent.name for o in items]
        train = [i for i, n in enumerate(names) if n == train_name]
        valid = [i for i, n in enumerate(names) if n == valid_name]
        return train, valid

    return _checked(f"GrandparentSplitter({train_name!r}, {valid_name!r})", split)


def FileSplitter(fname: str | Path) -> Splitter:
    """Items whose file name is listed (one per line) in the text file `fname` go to validation."""
    fname = Path(fname)
    if not fname.is_file():
        raise DataError(f"FileSplitter: the list of validation files {fname} does not exist")
    valid_names = {line.strip() for line in fname.read_text().splitlines() if line.strip()}

    def split(items: Any) -> Splits:
        return _mask_split(np.array([Path(o).name in valid_names for o in items], dtype=bool))

    return _checked(f"FileSplitter({fname.name})", split)


def ColSplitter(col: str | int = "is_valid", on: Any = None) -> Splitter:
    """Split a DataFrame by a column: rows where it is true (or equal to `on`) go to validation.

    An int `col` that is not a column name is taken as a position.
    """
    name = f"ColSplitter({col!r})" if on is None else f"ColSplitter({col!r}, on={on!r})"

    def split(df: Any) -> Splits:
        columns = list(getattr(df, "columns", ()))
        if not columns:
            raise DataError(f"{name}: expected a DataFrame, got {type(df).__name__}")
        if col in columns:
            values = df[col].to_numpy()
        elif isinstance(col, int) and -len(columns) <= col < len(columns):
            values = df.iloc[:, col].to_numpy()
        else:
            raise DataError(f"{name}: no column {col!r} (columns: {columns})")
        if on is not None:
            return _mask_split(values == on)
        if values.dtype != bool and not set(np.unique(values).tolist()) <= {0, 1}:
            found = np.unique(values)[:5].tolist()
            raise DataError(f"{name}: column {col!r} is not boolean (values {found}...); pass on=<value>")
        return _mask_split(values.astype(bool))

    return _checked(name, split)


def _count(size: float | int | None, n: int, what: str) -> int | None:
    """A fraction of `n` or a number of items, validated."""
    if size is None:
        return None
    k = int(round(size * n)) if isinstance(size, float) else int(size)
    if (isinstance(size, float) and not 0 < size < 1) or not 0 < k < n:
        raise DataError(f"TrainTestSplitter: {what}={size} gives {k} of {n} items; expected 1..{n - 1}")
    return k


def _allocate(counts: np.ndarray, k: int) -> np.ndarray:
    """Share `k` among classes in proportion to `counts`, summing exactly to `k` (largest remainders)."""
    quota = counts * k / counts.sum()
    out = np.floor(quota).astype(int)
    extra = k - out.sum()
    # stable sort: among equal remainders the first classes get the extra items
    out[np.argsort(-(quota - out), kind="stable")[:extra]] += 1
    return out


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

    def split(items: Any) -> Splits:
        n = len(items)
        n_test = _count(test_size, n, "test_size")
        n_train = _count(train_size, n, "train_size") or n - n_test
        if n_test + n_train > n:
            raise DataError(f"TrainTestSplitter: {n_train} train + {n_test} test items exceed the {n} items")
        rng = np.random.default_rng(random_state)
        if stratify is None:
            order = rng.permutation(n) if shuffle else np.arange(n)
            return sorted(order[n_test : n_test + n_train].tolist()), sorted(order[:n_test].tolist())
        labels = np.asarray(stratify)
        if len(labels) != n:
            raise DataError(f"TrainTestSplitter: stratify has {len(labels)} labels for {n} items")
        classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        test_k = _allocate(counts, n_test)
        # train shares come from what each class has left, so no class is asked for more than it has
        train_k = _allocate(counts - test_k, n_train)
        train, test = [], []
        for c in range(len(classes)):
            members = np.flatnonzero(inverse == c)
            members = rng.permutation(members) if shuffle else members
            test += members[: test_k[c]].tolist()
            train += members[test_k[c] : test_k[c] + train_k[c]].tolist()
        return sorted(train), sorted(test)

    return _checked("TrainTestSplitter", split)
