"""Getters and labellers: find the items, and read an input or a label from one item."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from layered.core.collection import L
from layered.core.registry import register_serializable
from layered.data.errors import DataError

__all__ = ["ColReader", "FileGetter", "RegexLabeller", "get_files", "parent_label", "using_attr"]


def _as_names(names: str | Iterable[str] | None) -> list[str]:
    """A list of names; a single string is one name, not its characters."""
    if names is None:
        return []
    return [names] if isinstance(names, str) else list(names)


def _norm_exts(extensions: str | Iterable[str] | None) -> set[str] | None:
    if extensions is None:
        return None
    return {e.lower() if e.startswith(".") else f".{e.lower()}" for e in _as_names(extensions)}


def _files_in(root: Path, exts: set[str] | None, recurse: bool, followlinks: bool) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root, followlinks=followlinks):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # hidden folders (.git, .ipynb_checkpoints)
        found += [
            Path(folder) / f
            for f in files
            if not f.startswith(".") and (exts is None or os.path.splitext(f)[1].lower() in exts)
        ]
        if not recurse:
            break
    return found


def get_files(
    path: str | Path,
    extensions: str | Iterable[str] | None = None,
    recurse: bool = True,
    folders: str | Iterable[str] | None = None,
    followlinks: bool = True,
) -> L:
    """The files under `path`, sorted; optionally only `extensions` (any case) and top-level `folders`.

    Hidden files and folders (names starting with `.`) are skipped. With `folders`, only those
    subfolders of `path` are searched (`"."` adds the files directly in `path`).
    """
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"get_files: {path} is not a folder")
    exts = _norm_exts(extensions)
    names = _as_names(folders)
    # '.' means the files directly in `path`; walking it would search the other folders as well
    roots = {path / f: recurse and path / f != path for f in names} if names else {path: recurse}
    found = []
    for root, deep in roots.items():
        if not root.is_dir():
            raise DataError(f"get_files: folder {root.name!r} not found in {path}")
        found += _files_in(root, exts, deep, followlinks)
    return L(sorted(found))


def FileGetter(
    suffix: str = "",
    extensions: str | Iterable[str] | None = None,
    recurse: bool = True,
    folders: str | Iterable[str] | None = None,
) -> Callable[[str | Path], L]:
    """A `get_items` function: `path -> get_files(path/suffix, extensions, recurse, folders)`."""

    def get(path: str | Path) -> L:
        return get_files(Path(path) / suffix, extensions, recurse, folders)

    get.__name__ = get.__qualname__ = f"FileGetter({suffix!r})"
    return get


@register_serializable
def parent_label(o: str | Path) -> str:
    """The name of the folder holding file `o` (a label for `folder/label/file` layouts)."""
    return Path(o).parent.name


@register_serializable
class RegexLabeller:
    """The first group of regex `pat` in the item as a string (the whole match if `pat` has no group).

    `match=True` anchors the pattern at the start (`re.match`), otherwise it is searched anywhere.
    """

    def __init__(self, pat: str, match: bool = False):
        self.pat, self.match = re.compile(pat), match

    def __call__(self, o: Any) -> str:
        text = str(o)
        found = self.pat.match(text) if self.match else self.pat.search(text)
        if found is None:
            raise DataError(f"RegexLabeller: pattern {self.pat.pattern!r} does not match item {text!r}")
        return found.group(1) if found.groups() else found.group(0)

    def __repr__(self) -> str:
        return f"RegexLabeller({self.pat.pattern!r}, match={self.match})"


@register_serializable
class ColReader:
    """Read column(s) `cols` of a row (pandas Series or namedtuple), with `pref`/`suff` and `label_delim`.

    A `Path` prefix gives `pref / f"{value}{suff}"` as a Path; `label_delim` splits the value into a
    list of labels (an empty or missing value gives `[]`). Several columns give a list of values.
    """

    def __init__(
        self,
        cols: str | int | list,
        pref: str | Path = "",
        suff: str = "",
        label_delim: str | None = None,
    ):
        self.cols = list(cols) if isinstance(cols, (list, tuple, L)) else [cols]
        self.pref, self.suff, self.label_delim = pref, suff, label_delim

    def _read(self, row: Any, col: str | int) -> Any:
        try:
            if isinstance(col, int) and hasattr(row, "iloc"):
                return row.iloc[col]
            if isinstance(col, str) and hasattr(row, "_fields"):  # a namedtuple, e.g. from itertuples()
                return getattr(row, col)
            return row[col]
        except (KeyError, IndexError, AttributeError) as e:
            cols = list(getattr(row, "_fields", None) or getattr(row, "index", []))
            raise DataError(f"ColReader: no column {col!r} in the row (columns: {cols})") from e

    def _one(self, row: Any, col: str | int) -> Any:
        value = self._read(row, col)
        if isinstance(self.pref, Path):
            value = self.pref / f"{value}{self.suff}"
        elif self.pref or self.suff:
            value = f"{self.pref}{value}{self.suff}"
        if self.label_delim is not None:
            # NaN != NaN: a missing value means no labels
            value = [] if value != value or value == "" else str(value).split(self.label_delim)
        return value

    def __call__(self, row: Any) -> Any:
        values = [self._one(row, c) for c in self.cols]
        return values[0] if len(values) == 1 else values

    def __repr__(self) -> str:
        return f"ColReader({self.cols if len(self.cols) > 1 else self.cols[0]!r})"


@register_serializable
class using_attr:
    """`f(getattr(o, attr))`: apply a labeller to an attribute of the item (e.g. a Path's `name`)."""

    def __init__(self, f: Callable, attr: str):
        self.f, self.attr = f, attr

    def __call__(self, o: Any) -> Any:
        try:
            value = getattr(o, self.attr)
        except AttributeError as e:
            raise DataError(f"using_attr: item {o!r} has no attribute {self.attr!r}") from e
        return self.f(value)

    def __repr__(self) -> str:
        return f"using_attr({getattr(self.f, '__name__', self.f)!s}, {self.attr!r})"
