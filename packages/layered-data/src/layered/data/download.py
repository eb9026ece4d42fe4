"""Download one URL to one file, verified and atomic: the destination is whole or absent.

The body is streamed into a uniquely named `.part` file beside the destination, hashed as it
arrives, checked against the announced length and the expected size and sha256, and only then
renamed over the destination with `os.replace` (atomic on one file system). Any failure on the
way (HTTP error, timeout, a connection closed early, Ctrl-C, a checksum mismatch) deletes the
`.part` file, so a crash never leaves a half-written file where a complete one is expected.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from layered.data.checksums import expected_checksum, file_sha256
from layered.data.errors import DataError

__all__ = ["DownloadError", "download_url"]

_CHUNK = 1 << 16
_HEADERS = {"User-Agent": "layered-data (python urllib)"}


class DownloadError(DataError, OSError):
    """A transfer failed (HTTP error, unreachable host, timeout, connection closed early)."""


def progress_bar(*args, **kwargs):
    """fastprogress's `progress_bar`; fastprogress (a fifth of a second to import) loads with the first bar."""
    from fastprogress.fastprogress import progress_bar as bar

    return bar(*args, **kwargs)


def _content_length(response) -> int | None:
    """The announced body length, or None when the server did not announce a usable one."""
    value = response.headers.get("Content-Length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _stream(response, out: BinaryIO, url: str, total: int | None, show_progress: bool) -> tuple[int, str]:
    """Copy the whole body to `out`, updating a progress bar; return `(bytes received, sha256)`."""
    digest, received = hashlib.sha256(), 0
    # The bar is built only when shown: fastprogress's console bar prints as it is constructed.
    bar = progress_bar(None, total=total or "noinfer", leave=False) if show_progress else None
    try:
        if bar is not None:
            bar.update(0)
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (OSError, HTTPException) as e:
                raise DownloadError(f"download_url: reading {url} failed after {received} bytes: {e}") from e
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            if bar is not None:
                bar.update(received)
        if total is not None and received != total:
            raise DownloadError(
                f"download_url: {url} closed the connection after {received} of {total} bytes"
            )
    except BaseException:
        if bar is not None:
            bar.on_interrupt()
        raise
    if bar is not None and not total:
        bar.on_iter_end()  # a bar of known length closes itself when it reaches its total
    return received, digest.hexdigest()


def _open(url: str, timeout: float):
    """The response to a GET of `url`, or a DownloadError naming the url and what went wrong."""
    try:
        return urlopen(Request(url, headers=_HEADERS), timeout=timeout)
    except HTTPError as e:
        e.close()
        raise DownloadError(f"download_url: {url} answered HTTP {e.code} {e.reason}") from e
    except (OSError, HTTPException) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"download_url: could not reach {url}: {reason}") from e


def _fetch(url: str, part: Path, size: int | None, sha256: str | None, show_progress: bool, timeout: float):
    """Download `url` into the new file `part` and check it; raise on any shortfall or mismatch."""
    with _open(url, timeout) as response:
        total = _content_length(response)
        if size is not None and total is not None and total != size:
            raise DataError(f"download_url: {url} announces {total} bytes, expected {size}")
        with open(part, "xb") as out:
            received, found = _stream(response, out, url, total, show_progress)
            out.flush()
            os.fsync(out.fileno())  # the bytes are on disk before the rename makes them official
    if size is not None and received != size:
        raise DataError(f"download_url: {url} gave {received} bytes, expected {size}")
    if sha256 is not None and found != sha256:
        raise DataError(f"download_url: checksum mismatch for {url}: expected sha256 {sha256}, found {found}")


def download_url(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    force: bool = False,
    show_progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Download `url` to the file `dest` and return its path; verified, atomic, and skipped if already there.

    The expected checksum is `sha256` if given, else the registry's entry for `url`
    (`layered.data.checksums`), else none. An existing `dest` is kept, without touching the
    network, unless `force=True` or it fails the expected checksum. `timeout` (seconds) bounds
    connecting and each read. Failures raise `DownloadError` (transfer) or `DataError`
    (wrong size or checksum) and leave `dest` as it was.
    """
    dest = Path(dest)
    if dest.is_dir():
        raise DataError(f"download_url: dest {dest} is a folder; expected the path of the file to write")
    size, expected = expected_checksum(url, sha256)
    if dest.exists() and not force and (expected is None or file_sha256(dest) == expected):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    # A random part name: two processes fetching the same file cannot write into each other's.
    part = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    try:
        _fetch(url, part, size, expected, show_progress, timeout)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return dest
