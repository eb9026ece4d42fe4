"""Atomic file writes: a crash or an error never leaves a half-written file behind.

The temporary file lives beside its target and is named `.{name}.{host}-{pid}.{random}.tmp`
(`host`: 8 hex digits of a hash of the host name). A writer killed between writing and renaming
leaves its temporary behind; the next write to the same target on the same host removes the
temporaries of that target whose process is gone, and nothing else (POSIX only: elsewhere the
liveness of a process cannot be probed harmlessly, so nothing is removed).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_save", "atomic_write", "remove_stale_temporaries"]


@functools.cache
def _host_tag() -> str:
    """8 hex digits naming this host, so that writers on a shared file system leave each other alone."""
    return hashlib.blake2s(socket.gethostname().encode("utf8", "replace"), digest_size=4).hexdigest()


def _temporary_pattern(file: Path) -> re.Pattern:
    return re.compile(rf"\.{re.escape(file.name)}\.([0-9a-f]{{8}})-([0-9]+)\.[0-9a-f]{{8}}\.tmp")


def _process_is_gone(pid: int) -> bool:
    """True only when no process `pid` exists here (a process of another user counts as alive)."""
    if os.name != "posix" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: an existence check that delivers nothing
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def remove_stale_temporaries(file: str | Path) -> list[Path]:
    """Remove the temporaries that dead writers on this host left beside `file`; returns them.

    Only regular files named like `atomic_write`'s temporaries of `file`, written by a process of
    this host that no longer exists, are removed: other files, other targets' temporaries,
    temporaries of live processes, of this process and of other hosts are left alone.
    """
    file = Path(file)
    pattern, host, me = _temporary_pattern(file), _host_tag(), os.getpid()
    prefix = f".{file.name}."
    removed: list[Path] = []
    try:
        entries = list(os.scandir(file.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = pattern.fullmatch(entry.name)
        if match is None or match[1] != host:
            continue
        pid = int(match[2])
        if pid == me or not _process_is_gone(pid):
            continue
        with contextlib.suppress(OSError):  # another writer may have removed it first
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _create_temporary(file: Path) -> tuple[Path, int]:
    """Create and open a new temporary beside `file`, with the mode a plain `open(file, "w")` gives it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    stem = f".{file.name}.{_host_tag()}-{os.getpid()}."
    while True:
        tmp = file.with_name(f"{stem}{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as it does to `open`
            break
        except FileExistsError:
            continue
    try:
        # `open(file, "w")` on an existing file keeps its permissions: so does the rename
        mode = stat.S_IMODE(os.stat(file).st_mode)
    except OSError:
        return tmp, fd
    try:
        os.chmod(tmp, mode)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp, fd


@contextlib.contextmanager
def atomic_write(file: str | Path, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside `file` for writing; when the block ends without an error it is
    synced and renamed over `file`, else removed (the old `file`, if any, is left as it was).

    `mode` is `"wb"` or `"w"`; `open_kwargs` go to `open` (e.g. `encoding`, `newline`). The new
    file gets the permissions `open(file, "w")` would give it: those of the file it replaces, else
    0o666 less the umask. Stale temporaries of `file` left by dead writers are removed first.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(file)
    tmp, fd = _create_temporary(file)
    try:
        f = os.fdopen(fd, mode, **open_kwargs)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        with f:
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
