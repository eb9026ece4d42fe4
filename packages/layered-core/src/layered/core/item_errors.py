"""Naming the failing item: the one note every layer adds to an exception raised while an item is processed.

An exception raised while a pipeline, a dataset or a loader works on one item keeps its type
and gains one note (`BaseException.add_note`) such as::

    layered: item 7 ('cat_7.png') failed in setting up Categorize, at get_y

A failure while items are collated into a batch names the batch's items instead::

    layered: batch of items [4, 9, 1, 7] failed in TfmdDL.do_batch

Only the first site that names an item adds its note (the innermost, which knows the item
best); the sites around it leave the exception alone. `mark_step` records which transform of a
pipeline failed, for the note written further out. An exception raised in a worker process is
re-raised by torch in the main process as the same type with the worker's traceback (notes
included) as its message; `carry_note_from_worker` gives it the note again.
"""

from __future__ import annotations

import contextlib
import re
import reprlib
from typing import Any

__all__ = [
    "carry_note_from_worker",
    "item_note",
    "mark_step",
    "note_batch_error",
    "note_item_error",
    "short_repr",
]

_PREFIX = "layered: item "
_NOTED = "_layered_item_noted"
_STEP = "_layered_failed_step"

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxtuple, _short.maxdict = 60, 60, 4, 4, 4
_short.maxlevel = 2


def short_repr(obj: Any, limit: int = 80) -> str:
    """A repr of `obj` cut to about `limit` characters (tensors and arrays by type, shape and dtype)."""
    shape, dtype = getattr(obj, "shape", None), getattr(obj, "dtype", None)
    if shape is not None and dtype is not None and not isinstance(obj, (str, bytes)):
        return f"{type(obj).__name__}(shape={tuple(shape)}, dtype={dtype})"
    try:
        text = _short.repr(obj)
    except Exception:  # a broken __repr__ must not hide the error being reported
        text = f"<{type(obj).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def item_note(index: Any, item: Any, step: str) -> str:
    """The text of the note naming item `index` (shown by `short_repr`) and the step that failed."""
    return f"{_PREFIX}{index} ({short_repr(item)}) failed in {step}"


def mark_step(exc: BaseException, step: str) -> None:
    """Record on `exc` the innermost step (e.g. a transform's name) that raised it; outer calls keep the first."""
    if getattr(exc, _STEP, None) is None and not getattr(exc, _NOTED, False):
        # an exception type without a __dict__ cannot hold it: the note will just lack the detail
        with contextlib.suppress(AttributeError):
            setattr(exc, _STEP, step)


def note_item_error(exc: BaseException, index: Any, item: Any, step: str) -> None:
    """Add to `exc` the note naming item `index`, `item` and `step` (with the failing transform if marked), once."""
    if getattr(exc, _NOTED, False) or _has_note(exc):
        return
    inner = getattr(exc, _STEP, None)
    exc.add_note(item_note(index, item, f"{step}, at {inner}" if inner else step))
    with contextlib.suppress(AttributeError):
        setattr(exc, _NOTED, True)


def note_batch_error(exc: BaseException, indices: list | None, step: str) -> None:
    """Add to `exc` a note naming the items (by index, when known) of the batch being made when `step` failed, once."""
    if getattr(exc, _NOTED, False) or _has_note(exc):
        return
    which = short_repr(list(indices)) if indices is not None else "(indices not tracked)"
    exc.add_note(f"{_BATCH_PREFIX}{which} failed in {step}")
    with contextlib.suppress(AttributeError):
        setattr(exc, _NOTED, True)


_BATCH_PREFIX = "layered: batch of items "


def _has_note(exc: BaseException) -> bool:
    return any(str(n).startswith((_PREFIX, _BATCH_PREFIX)) for n in getattr(exc, "__notes__", ()))


_WORKER_NOTE = re.compile(rf"^(?:{re.escape(_PREFIX)}|{re.escape(_BATCH_PREFIX)}).*$", re.MULTILINE)


def carry_note_from_worker(exc: BaseException) -> None:
    """Give an exception re-raised from a worker (its message holds the worker's traceback) the item's note again."""
    if _has_note(exc):
        return
    found = _WORKER_NOTE.search(str(exc))
    if found:
        exc.add_note(found.group(0))
        with contextlib.suppress(AttributeError):
            setattr(exc, _NOTED, True)
