"""Getters and labellers: find the items, and read an input or a label from one item."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from layered.core.collection import L
from layered.data.errors import DataError

__all__ = ["ColReader", "FileGetter", "RegexLabeller", "get_files", "parent_label", "using_attr"]


def _norm_exts(extensions: Iterable[str] | None) -> set[str] | None:
    if extensions is None:
        return None
    return {e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions}


def get_files(
    path: str | Path,
    extensions: Iterable[str] | None = None,
    recurse: bool = True,
    folders: Iterable[str] | None = None,
    followlinks: bool = True,
) -> L:
    """The files under `path` (sorted), optionally only those with `extensions` and in top-level `folders`."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"get_files: {path} is not a folder")
    exts, folders = _norm_exts(extensions), set(folders or [])
    found = []
    for root, dirs, files in os.walk(path, followlinks=followlinks):
        root_p = Path(root)
        if root_p == path and folders:
            dirs[:] = [d for d in dirs if d in folders]
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            root_p / f
            for f in sorted(files)
            if not f.startswith(".")
            and (exts is None or Path(f).suffix.lower() in exts)
            and (root_p != path or not folders)
        ]
        if not recurse:
            break
    return L(found)


def FileGetter(
    suffix: str = "",
    extensions: Iterable[str] | None = None,
    recurse: bool = True,
    folders: Iterable[str] | None = None,
) -> Callable[[Path], L]:
    """A `get_items` function: `get_files(path/suffix, extensions, recurse, folders)`."""

    def get(path: str | Path) -> L:
        return get_files(Path(path) / suffix, extensions, recurse, folders)

    return get


def parent_label(o: str | Path) -> str:
    """The name of the folder holding file `o` (a label for `folder/label/file` layouts)."""
    return Path(o).parent.name


class RegexLabeller:
    """The first group of regex `pat` found in the item's file name (or the whole string)."""

    def __init__(self, pat: str, match: bool = False):
        self.pat, self.match = re.compile(pat), match

    def __call__(self, o: Any) -> str:
        text = str(o)
        found = self.pat.match(text) if self.match else self.pat.search(text)
        if found is None:
            raise DataError(f"RegexLabeller: pattern {self.pat.pattern!r} does not match item {text!r}")
        return found.group(1) if found.groups() else found.group(0)


class ColReader:
    """Read column(s) `cols` from a DataFrame row, adding `pref`/`suff` and splitting on `label_delim`."""

    def __init__(
        self, cols: str | int | list, pref: str | Path = "", suff: str = "", label_delim: str | None = None
    ):
        self.cols = cols if isinstance(cols, list) else [cols]
        self.pref = f"{pref}{os.path.sep}" if isinstance(pref, Path) else pref
        self.suff, self.label_delim = suff, label_delim

    def _one(self, row: Any, col: str | int) -> Any:
        try:
            value = row[col] if not isinstance(col, int) or not hasattr(row, "iloc") else row.iloc[col]
        except (KeyError, IndexError) as e:
            cols = list(getattr(row, "index", []))
            raise DataError(f"ColReader: no column {col!r} in the row (columns: {cols})") from e
        if self.pref or self.suff:
            value = f"{self.pref}{value}{self.suff}"
        if self.label_delim is not None:
            value = [] if value != value or value == "" else str(value).split(self.label_delim)
        return value

    def __call__(self, row: Any) -> Any:
        values = [self._one(row, c) for c in self.cols]
        return values[0] if len(values) == 1 else values


class using_attr:
    """`f(getattr(o, attr))`: apply a labeller to an attribute of the item (e.g. `name`)."""

    def __init__(self, f: Callable, attr: str):
        self.f, self.attr = f, attr

    def __call__(self, o: Any) -> Any:
        return self.f(getattr(o, self.attr))

    def __repr__(self) -> str:
        return f"using_attr({getattr(self.f, '__name__', self.f)!s}, {self.attr!r})"
