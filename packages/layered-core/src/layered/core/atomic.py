"""Atomic file writes: a crash or an error never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_save", "atomic_write"]


@contextlib.contextmanager
def atomic_write(file: str | Path, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside `file` for writing; when the block ends without an error it is
    synced and renamed over `file`, else removed (the old `file`, if any, is left as it was).

    `mode` is `"wb"` or `"w"`; `open_kwargs` go to `open` (e.g. `encoding`, `newline`).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_save(obj: Any, file: str | Path) -> None:
    """`torch.save` `obj` through `atomic_write`: `file` appears whole or not at all."""
    import torch  # here, so that plain-file writers do not pay for importing torch

    with atomic_write(file) as f:
        torch.save(obj, f)
