"""Reading the text of an item: a string, a file, or one or more columns of a table row.

Missing columns, missing values (NaN, None) and cells that are not strings are errors that name
the row and the column; an empty string is a valid (empty) text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from layered.text.errors import TextError
from layered.text.rules import FLD

__all__ = ["check_columns", "field_text", "frame_texts", "read_text", "row_text"]


def check_columns(columns: Sequence, text_cols: Sequence, where: str) -> None:
    """Raise a `TextError` naming the text columns absent from `columns`."""
    missing = [c for c in text_cols if c not in columns]
    if missing:
        raise TextError(f"{where}: no text column {missing} in the table (its columns: {list(columns)})")


def _cell_text(value: Any, row: Any, col: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and value != value):
        raise TextError(f"row {row!r}, column {col!r}: the text is missing (NaN/None); fill or drop it first")
    raise TextError(
        f"row {row!r}, column {col!r}: expected a string, found {type(value).__name__} {value!r}; "
        "convert the column with .astype(str) if that is meant"
    )


def field_text(values: Sequence[str], mark_fields: bool) -> str:
    """Join the texts of several fields, each preceded by `xxfld i` when `mark_fields`."""
    if not mark_fields:
        return " ".join(values)
    return " ".join(f"{FLD} {i + 1} {v}" for i, v in enumerate(values))


def row_text(row: Any, text_cols: Sequence, mark_fields: bool) -> str:
    """The text of one table row (a pandas Series or a namedtuple) from its `text_cols`."""
    label = getattr(row, "name", None)
    values = []
    for col in text_cols:
        try:
            value = getattr(row, col) if hasattr(row, "_fields") else row[col]
        except (KeyError, AttributeError, IndexError) as e:
            fields = list(getattr(row, "_fields", None) or getattr(row, "index", []))
            raise TextError(f"row {label!r}: no text column {col!r} (its columns: {fields})") from e
        values.append(_cell_text(value, label, col))
    return field_text(values, mark_fields)


def frame_texts(df: Any, text_cols: Sequence, mark_fields: bool) -> list[str]:
    """The text of every row of a DataFrame, read column-wise (much faster than row by row)."""
    check_columns(df.columns, text_cols, "frame_texts")
    columns = []
    for col in text_cols:
        values = df[col].tolist()
        columns.append(
            # the label as a plain Python value: `row 7`, not NumPy's `row np.int64(7)`
            [
                v if isinstance(v, str) else _cell_text(v, df.index[i : i + 1].tolist()[0], col)
                for i, v in enumerate(values)
            ]
        )
    return (
        [field_text(vs, mark_fields) for vs in zip(*columns)]
        if len(columns) > 1 or mark_fields
        else columns[0]
    )


def read_text(path: Path, encoding: str = "utf8") -> str:
    """The text of a file, with the file named if it cannot be read or decoded."""
    try:
        return Path(path).read_text(encoding=encoding)
    except UnicodeDecodeError as e:
        raise TextError(
            f"{path}: not valid {encoding} text ({e.reason} at byte {e.start}); pass encoding="
        ) from e
    except OSError as e:
        raise TextError(f"{path}: cannot read the file ({e.strerror})") from e
