"""Splitters: functions from the items to `(train_indices, valid_indices)`."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

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


def check_splits(splits: Sequence, n: int, name: str = "splitter") -> None:
    """Raise a `DataError` if a split is empty, overlaps another or indexes past `n` items."""
    if len(splits) < 1:
        raise DataError(f"{name} returned no split")
    sets = [set(int(i) for i in s) for s in splits]
    for k, (s, raw) in enumerate(zip(sets, splits)):
        label = ("train", "valid")[k] if k < 2 else f"split {k}"
        if not s:
            raise DataError(
                f"{name}: the {label} split is empty (sizes: {[len(x) for x in splits]} of {n} items)"
            )
        if len(s) != len(raw):
            raise DataError(f"{name}: the {label} split repeats items")
        bad = [i for i in s if not 0 <= i < n]
        if bad:
            raise DataError(f"{name}: the {label} split has indices {bad[:5]} outside 0..{n - 1}")
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            both = sets[a] & sets[b]
            if both:
                raise DataError(
                    f"{name}: splits {a} and {b} overlap on {len(both)} items, e.g. index {min(both)}"
                )


def _named(f: Callable, name: str) -> Callable:
    f.__name__ = f.__qualname__ = name
    return f


def RandomSplitter(valid_pct: float = 0.2, seed: int | None = None) -> Callable[[Sequence], Splits]:
    """A random `valid_pct` of the items for validation (repeatable with `seed`)."""
    if not 0 < valid_pct < 1:
        raise DataError(f"RandomSplitter: valid_pct must be between 0 and 1, got {valid_pct}")

    def split(items: Sequence) -> Splits:
        rng = random.Random(seed) if seed is not None else random
        idxs = list(range(len(items)))
        rng.shuffle(idxs)
        cut = int(round(valid_pct * len(idxs)))
        return sorted(idxs[cut:]), sorted(idxs[:cut])

    return _named(split, f"RandomSplitter(valid_pct={valid_pct}, seed={seed})")


def IndexSplitter(valid_idx: Sequence[int]) -> Callable[[Sequence], Splits]:
    """The items at `valid_idx` for validation, the rest for training."""

    def split(items: Sequence) -> Splits:
        valid = sorted(int(i) for i in valid_idx)
        chosen = set(valid)
        return [i for i in range(len(items)) if i not in chosen], valid

    return _named(split, "IndexSplitter")


def MaskSplitter(mask: Sequence[bool]) -> Callable[[Sequence], Splits]:
    """Items where `mask` is true for validation."""

    def split(items: Sequence) -> Splits:
        if len(mask) != len(items):
            raise DataError(f"MaskSplitter: mask has {len(mask)} entries for {len(items)} items")
        m = np.asarray(mask, dtype=bool)
        return np.flatnonzero(~m).tolist(), np.flatnonzero(m).tolist()

    return _named(split, "MaskSplitter")


def FuncSplitter(func: Callable) -> Callable[[Sequence], Splits]:
    """Items for which `func(item)` is true for validation."""

    def split(items: Sequence) -> Splits:
        return MaskSplitter([bool(func(o)) for o in _rows(items)])(items)

    return _named(split, f"FuncSplitter({getattr(func, '__name__', func)})")


def GrandparentSplitter(train_name: str = "train", valid_name: str = "valid") -> Callable[[Sequence], Splits]:
    """Split paths by their grandparent folder (`.../train/label/file`, `.../valid/label/file`)."""

    def split(items: Sequence) -> Splits:
        names = [Path(o).parent.parent.name for o in items]
        train = [i for i, n in enumerate(names) if n == train_name]
        valid = [i for i, n in enumerate(names) if n == valid_name]
        return train, valid

    return _named(split, f"GrandparentSplitter({train_name!r}, {valid_name!r})")


def FileSplitter(fname: str | Path) -> Callable[[Sequence], Splits]:
    """Items whose file name is listed (one per line) in `fname` go to validation."""
    valid_names = {line.strip() for line in Path(fname).read_text().splitlines() if line.strip()}

    def split(items: Sequence) -> Splits:
        return MaskSplitter([Path(o).name in valid_names for o in items])(items)

    return _named(split, f"FileSplitter({Path(fname).name})")


def ColSplitter(col: str | int = "is_valid", on=None) -> Callable[[Sequence], Splits]:
    """Split a DataFrame by a column: true (or equal to `on`) means validation."""

    def split(df) -> Splits:
        if col not in getattr(df, "columns", ()):
            raise DataError(f"ColSplitter: no column {col!r} (columns: {list(getattr(df, 'columns', []))})")
        values = df[col].to_numpy()
        mask = values == on if on is not None else values.astype(bool)
        return MaskSplitter(mask)(df)

    return _named(split, f"ColSplitter({col!r})")


def TrainTestSplitter(
    test_size: float = 0.2,
    random_state: int | None = None,
    stratify=None,
    train_size: float | None = None,
    shuffle: bool = True,
) -> Callable[[Sequence], Splits]:
    """A (stratified, if `stratify` gives each item's class) split into train and test fractions."""

    def split(items: Sequence) -> Splits:
        n = len(items)
        rng = np.random.default_rng(random_state)
        n_test = int(round(test_size * n)) if isinstance(test_size, float) else int(test_size)
        n_train = n - n_test if train_size is None else int(round(train_size * n))
        if stratify is None:
            order = rng.permutation(n) if shuffle else np.arange(n)
            return sorted(order[n_test : n_test + n_train].tolist()), sorted(order[:n_test].tolist())
        labels = np.asarray(stratify)
        if len(labels) != n:
            raise DataError(f"TrainTestSplitter: stratify has {len(labels)} labels for {n} items")
        test = []
        for cls in np.unique(labels):
            members = np.flatnonzero(labels == cls)
            members = rng.permutation(members) if shuffle else members
            test += members[: int(round(len(members) * n_test / n))].tolist()
        test_set = set(test)
        return [i for i in range(n) if i not in test_set], sorted(test)

    return _named(split, "TrainTestSplitter")


def _rows(items):
    return (row for _, row in items.iterrows()) if hasattr(items, "iterrows") else items
