"""The artifact file: one safetensors file whose metadata holds a JSON configuration.

Every file layered-train writes for later loading (learner exports, saved models) is a plain
safetensors file: the tensors under their names (a model's under `model.` + its state-dict
names, so any safetensors reader finds the weights) and, in the file's `__metadata__`,
`format` (what the file is), `format_version` (`MAJOR.MINOR`), `layered` (the version that
wrote it) and `config` (JSON). safetensors holds no code, and its reader checks that every
tensor lies inside the file, so a file cannot ask for more memory than it has bytes.

`read_artifact` checks, before any tensor is made, that the file is a safetensors file of the
expected format and of a major version this library reads; every problem raises an
`ArtifactError` naming the file and what is wrong.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import torch

from layered.core.atomic import atomic_write
from layered.train import __version__
from layered.train.errors import TrainError

__all__ = ["ArtifactError", "artifact_bytes", "parse_artifact", "read_artifact", "write_artifact"]

FORMAT_VERSION = (1, 0)
_MAX_HEADER = 100_000_000  # safetensors' own limit on the header


class ArtifactError(TrainError):
    """A file is not a readable layered artifact: missing, truncated, foreign, newer or malformed."""


def _unshared(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors on the CPU, contiguous, each owning its memory (safetensors refuses shared storage)."""
    out, seen = {}, set()
    for key, t in tensors.items():
        t = t.detach().cpu().contiguous()
        storage = t.untyped_storage()
        if storage.data_ptr() in seen or storage.nbytes() != t.numel() * t.element_size():
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        out[key] = t
    return out


def artifact_bytes(fmt: str, config: Any, tensors: dict[str, torch.Tensor]) -> bytes:
    """The bytes of a `fmt` artifact holding `config` (JSON-ready data) and `tensors`."""
    from safetensors.torch import save

    metadata = {
        "format": fmt,
        "format_version": f"{FORMAT_VERSION[0]}.{FORMAT_VERSION[1]}",
        "layered": __version__,
        "config": json.dumps(config, allow_nan=False, separators=(",", ":")),
    }
    return save(_unshared(tensors), metadata=metadata)


def write_artifact(file: str | Path, fmt: str, config: Any, tensors: dict[str, torch.Tensor]) -> Path:
    """Write `config` (JSON-ready data) and `tensors` to `file` as a `fmt` artifact, atomically."""
    file = Path(file)
    data = artifact_bytes(fmt, config, tensors)
    with atomic_write(file, "wb") as f:
        f.write(data)
    return file


def _describe_foreign(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (a torch.save file, e.g. an export from before layered 0.2 or a checkpoint)"
    if head[:1] == b"\x80":
        return "a pickle"
    if not head:
        return "empty"
    return "not a safetensors file"


def _header(file: str | Path, data: bytes) -> dict:
    """The safetensors header of `data`, checked to fit inside it."""
    if len(data) < 8:
        raise ArtifactError(
            f"{file} is {_describe_foreign(data)}: {len(data)} bytes, too short for a layered artifact"
        )
    (n,) = struct.unpack("<Q", data[:8])
    if n > _MAX_HEADER or 8 + n > len(data):
        raise ArtifactError(
            f"{file} is {_describe_foreign(data[:8])}: its header would be {n} bytes, "
            f"but the file has {len(data)} (truncated, or not a layered artifact)"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ArtifactError(f"{file} is not a safetensors file (its header is not JSON: {e!r})") from e
    if not isinstance(header, dict):
        raise ArtifactError(f"{file} is not a safetensors file (its header is a {type(header).__name__})")
    return header


def _check_version(file: str | Path, meta: dict, fmt: str) -> None:
    version = meta.get("format_version", "")
    try:
        major, _ = (int(p) for p in version.split("."))
    except ValueError:
        raise ArtifactError(f"{file}: format_version {version!r} is not MAJOR.MINOR") from None
    if major > FORMAT_VERSION[0]:
        raise ArtifactError(
            f"{file} is a {fmt} of format {version}, written by layered {meta.get('layered', '?')}; "
            f"this layered-train ({__version__}) reads format {FORMAT_VERSION[0]}.x: upgrade layered-train"
        )
    if major < 1:
        raise ArtifactError(f"{file}: format {version} is older than any this library reads")


def read_artifact(file: str | Path, fmt: str) -> tuple[Any, dict[str, torch.Tensor], dict[str, str]]:
    """Read a `fmt` artifact: its configuration, its tensors (on the CPU) and its metadata."""
    file = Path(file)
    if not file.is_file():
        raise ArtifactError(f"{file} is not a file")
    return parse_artifact(file.read_bytes(), fmt, file)


def parse_artifact(
    data: bytes, fmt: str, file: str | Path
) -> tuple[Any, dict[str, torch.Tensor], dict[str, str]]:
    """Read a `fmt` artifact from its bytes (`file` names it in errors), like `read_artifact`."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    meta = _header(file, data).get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ArtifactError(
            f"{file} is not a {fmt} file"
            + (
                f" (it is a {found!r} file)"
                if isinstance(found, str)
                else " (a safetensors file without layered metadata)"
            )
        )
    _check_version(file, meta, fmt)
    try:
        config = json.loads(meta.get("config", ""))
    except (TypeError, json.JSONDecodeError, RecursionError) as e:
        raise ArtifactError(f"{file}: its configuration is not valid JSON ({e!r})") from e
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, RuntimeError, OverflowError, TypeError) as e:
        raise ArtifactError(f"{file}: its tensors cannot be read ({e})") from e
    return config, tensors, meta
