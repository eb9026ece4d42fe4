"""Known checksums of downloadable files: a registry from URL to `(size, sha256)`, and file hashing.

A download is verified against the `sha256=` its caller passes, else against the registry entry
for its URL, else not at all. The registry ships empty on purpose: a checksum is only worth
something if it was measured on the real file, and we publish none that we have not measured.
Users (or a project's setup code) add the ones they trust with `register_checksum`.
"""

from __future__ import annotations

import hashlib
import os
import re

from layered.data.errors import DataError

__all__ = ["CHECKSUMS", "expected_checksum", "file_sha256", "register_checksum"]

CHECKSUMS: dict[str, tuple[int | None, str]] = {}
"""URL -> (size in bytes or None, lowercase hex sha256) of the file served there."""

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _checked_sha256(value: str, where: str) -> str:
    """`value` as 64 lowercase hex digits, or a DataError naming `where` it came from."""
    digest = value.strip().lower() if isinstance(value, str) else value
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise DataError(f"{where}: expected a sha256 of 64 hex digits, found {value!r}")
    return digest


def register_checksum(url: str, sha256: str, size: int | None = None) -> None:
    """Record that the file at `url` has this `sha256` (and `size` in bytes, if known); replaces an entry."""
    digest = _checked_sha256(sha256, f"register_checksum({url!r})")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise DataError(f"register_checksum({url!r}): expected a size in bytes >= 0 or None, found {size!r}")
    CHECKSUMS[url] = (size, digest)


def expected_checksum(url: str, sha256: str | None = None) -> tuple[int | None, str | None]:
    """The `(size, sha256)` a download of `url` must match: `sha256` if given, else the registry's, else Nones."""
    size, known = CHECKSUMS.get(url, (None, None))
    if sha256 is None:
        return size, known
    digest = _checked_sha256(sha256, f"checksum for {url!r}")
    # The registered size belongs to the registered hash only; a caller's other hash stands alone.
    return (size if digest == known else None), digest


def file_sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 of the file at `path`, read in chunks so large files never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
