"""Extract a tar (plain, gz, bz2, xz) or zip archive safely and atomically.

Safely: every member is checked before anything is written. A member is refused, with a
`DataError` naming it, when its path is absolute or has a `..` component, when it lies inside
another member that is a link (writing through a link could land anywhere), when it is a device
or fifo, or when it is a symlink or hardlink whose target is absolute, climbs out of the
destination, or passes through another link; a hardlink must name a regular file member that
comes before it (a hardlink to a link member, or a chain of hardlinks, is refused). For tar files
the standard library's `data` filter then guards the extraction a second time.

Bounded: the bytes the members will write are added up from their headers before they are
written (tar headers are read one at a time, so a bomb is refused at its first oversized member
without decompressing its data; zip sizes come from the central directory, and `zipfile` writes
no more than a member declares). Extraction is refused, with a `DataError` naming the archive,
the member and the limit, once the total passes `max_bytes` (default `DEFAULT_MAX_BYTES`,
64 GiB), the free space of the destination's file system, or `max_ratio` (default
`DEFAULT_MAX_RATIO`, 100) times the archive's own size; the ratio is only checked once more than
1 MiB would be written, so small archives of repetitive text pass. `None` lifts a limit.

Atomically: the archive is extracted into a hidden folder beside `dest`, which is renamed to
`dest` only once extraction has succeeded; on any failure the hidden folder is removed, so
`dest` is either complete or absent.
"""

from __future__ import annotations

import lzma
import os
import secrets
import shutil
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from layered.data.errors import DataError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_RATIO", "extract_archive"]

DEFAULT_MAX_BYTES = 64 * 2**30
"""The most bytes `extract_archive` writes by default: 64 GiB, far above any data set in `URLs`."""

DEFAULT_MAX_RATIO = 100.0
"""The largest extracted size / archive size `extract_archive` accepts by default."""

_RATIO_FROM_BYTES = 2**20  # below this many extracted bytes, the ratio is not checked

_DAMAGED = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError)


def _parts(name: str) -> tuple[str, ...]:
    """The components of a member name, with `\\` read as a separator too (zips made on Windows)."""
    return tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "."))


def _unsafe_path(name: str) -> str | None:
    """Why the member path `name` is unsafe, or None."""
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return "has an absolute path"
    if ".." in _parts(name):
        return "has a '..' component"
    return None


def _through_link(parts: tuple[str, ...], links: set[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The first proper prefix of `parts` that is a link member, or None."""
    return next((parts[:i] for i in range(1, len(parts)) if parts[:i] in links), None)


def _unsafe_link(start: tuple[str, ...], target: str, links: set[tuple[str, ...]]) -> str | None:
    """Why a link target, walked from the folder `start`, is unsafe, or None."""
    if target.startswith(("/", "\\")) or PureWindowsPath(target).drive:
        return f"links to the absolute path {target!r}"
    walked = list(start)
    steps = _parts(target)
    for i, step in enumerate(steps):
        if step == "..":
            if not walked:
                return f"links to {target!r}, outside the destination"
            walked.pop()
            continue
        walked.append(step)
        # Where a link leads depends on other links only once extracted; refuse rather than guess.
        if tuple(walked) in links and i < len(steps) - 1:
            return f"links to {target!r}, through the link member {'/'.join(walked)!r}"
    return None


def _check_tar(archive: Path, members: list[tarfile.TarInfo]) -> None:
    """Raise a DataError naming the first tar member that is unsafe to extract."""
    links = {_parts(m.name) for m in members if m.issym() or m.islnk()}
    files: set[tuple[str, ...]] = set()  # the regular files met so far
    for m in members:
        parts = _parts(m.name)
        why = _unsafe_path(m.name)
        if why is None and (via := _through_link(parts, links)) is not None:
            why = f"lies inside the link member {'/'.join(via)!r}"
        if why is None and (m.ischr() or m.isblk() or m.isfifo()):
            why = "is a device or fifo, not a file, folder or link"
        if why is None and m.issym():
            why = _unsafe_link(parts[:-1], m.linkname, links)
        if why is None and m.islnk():
            # A hardlink's target is named from the archive root, not from the member's folder.
            bad = _unsafe_path(m.linkname)
            target = _parts(m.linkname)
            if bad:
                why = f"hardlinks to {m.linkname!r}, which {bad}"
            elif target in links:
                why = f"hardlinks to the link member {m.linkname!r}; a hardlink must name a regular file"
            elif target not in files:
                why = f"hardlinks to {m.linkname!r}, which is not a regular file member before it"
            else:
                why = _unsafe_link((), m.linkname, links)
        if why is not None:
            raise DataError(f"extract_archive: refusing {archive}: member {m.name!r} {why}")
        if m.isreg():
            files.add(parts)


def _check_zip(archive: Path, names: list[str]) -> None:
    """Raise a DataError naming the first zip member whose path is unsafe."""
    # zipfile writes a symlink entry as a plain file holding the target text, so paths are all to check.
    for name in names:
        if (why := _unsafe_path(name)) is not None:
            raise DataError(f"extract_archive: refusing {archive}: member {name!r} {why}")


class _Budget:
    """Adds up the bytes that members will write, and refuses the member that passes a limit."""

    def __init__(self, archive: Path, max_bytes: int | None, max_ratio: float | None, free: int | None):
        self.archive, self.max_bytes, self.max_ratio, self.free = archive, max_bytes, max_ratio, free
        self.archive_bytes = archive.stat().st_size
        self.total = 0

    def add(self, name: str, size: int) -> None:
        """Count `size` more bytes for the member `name`; raise a DataError past a limit."""
        self.total += max(0, size)
        total = self.total
        head = f"extract_archive: refusing {self.archive}: member {name!r} brings the extracted size to"
        if self.max_bytes is not None and total > self.max_bytes:
            raise DataError(
                f"{head} {total} bytes, past max_bytes={self.max_bytes}; "
                "pass a larger max_bytes (or None) if the archive is trusted"
            )
        ratio_limit = None if self.max_ratio is None else self.max_ratio * max(1, self.archive_bytes)
        if ratio_limit is not None and total > _RATIO_FROM_BYTES and total > ratio_limit:
            raise DataError(
                f"{head} {total} bytes, {total / max(1, self.archive_bytes):.0f} times the archive's "
                f"{self.archive_bytes} bytes, past max_ratio={self.max_ratio} (a compression bomb?); "
                "pass a larger max_ratio (or None) if the archive is trusted"
            )
        if self.free is not None and total > self.free:
            raise DataError(
                f"{head} {total} bytes, more than the {self.free} bytes free on the destination's disk"
            )


def _extract_into(archive: Path, folder: Path, budget: _Budget) -> None:
    """Check every member of `archive` and its size, then extract them all into the existing `folder`."""
    with open(archive, "rb") as f:
        is_zip = f.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    if is_zip:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            _check_zip(archive, [i.filename for i in infos])
            for info in infos:
                budget.add(info.filename, 0 if info.is_dir() else info.file_size)
            zf.extractall(folder)
        return
    if not tarfile.is_tarfile(archive):
        raise DataError(
            f"extract_archive: {archive} is not a readable tar (plain, gz, bz2, xz) or zip archive"
        )
    with tarfile.open(archive, mode="r:*") as tf:
        members = []
        for m in tf:  # header by header: an oversized member stops us before its data is read
            budget.add(m.name, m.size if m.isreg() else 0)
            members.append(m)
        _check_tar(archive, members)
        # Our checks came first so the error is ours; the stdlib filter (where it exists) guards again.
        if hasattr(tarfile, "data_filter"):
            tf.extractall(folder, members=members, filter="data")
        else:
            tf.extractall(folder, members=members)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _move_into_place(source: Path, dest: Path) -> None:
    """Rename `source` to `dest`, replacing an existing `dest` and restoring it if that fails."""
    if not dest.exists() and not dest.is_symlink():
        os.replace(source, dest)
        return
    # os.replace cannot swap in a folder over a non-empty one, so the old one steps aside first.
    old = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.old")
    os.replace(dest, old)
    try:
        os.replace(source, dest)
    except BaseException:
        os.replace(old, dest)
        raise
    _remove(old)


def _check_limit(name: str, value: float | None, kinds: tuple[type, ...], what: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, kinds) or not value > 0):
        raise DataError(f"extract_archive: {name} must be a positive {what} or None, got {value!r}")


def extract_archive(
    archive: str | os.PathLike,
    dest: str | os.PathLike,
    overwrite: bool = False,
    unwrap: bool = False,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_ratio: float | None = DEFAULT_MAX_RATIO,
) -> Path:
    """Extract the tar or zip `archive` into the folder `dest`, refusing unsafe members; return `dest`.

    The format is read from the file's first bytes, not its name. `dest` must not exist unless
    `overwrite=True`, which replaces it only once the new extraction is complete. With
    `unwrap=True`, an archive holding a single top-level folder has that folder's contents
    placed in `dest` (so `mnist_tiny.tgz` holding `mnist_tiny/...` gives `dest/train`, not
    `dest/mnist_tiny/train`).

    Extraction is refused before anything is written past `max_bytes` extracted bytes, past the
    free space beside `dest`, or (beyond 1 MiB) past `max_ratio` times the archive's size; `None`
    lifts the bytes or ratio limit. On any refusal or failure nothing is left in `dest`'s folder.
    """
    archive, dest = Path(archive), Path(dest)
    _check_limit("max_bytes", max_bytes, (int,), "integer")
    _check_limit("max_ratio", max_ratio, (int, float), "number")
    if not archive.is_file():
        raise DataError(f"extract_archive: archive {archive} is not a file")
    if (dest.exists() or dest.is_symlink()) and not overwrite:
        raise DataError(f"extract_archive: dest {dest} already exists; pass overwrite=True to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    staging.mkdir()
    try:
        budget = _Budget(archive, max_bytes, max_ratio, shutil.disk_usage(staging).free)
        try:
            _extract_into(archive, staging, budget)
        except _DAMAGED as e:
            raise DataError(f"extract_archive: {archive} is damaged or truncated: {e}") from e
        entries = list(staging.iterdir())
        single = unwrap and len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink()
        _move_into_place(entries[0] if single else staging, dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return dest
