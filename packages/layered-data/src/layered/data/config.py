"""Where layered keeps what it downloads: a home folder with `archive`, `data` and `models` inside.

The home is `~/.layered` unless the `LAYERED_HOME` environment variable names another folder.
The variable is read each time a path is asked for, not once at import, so a test or a job
can point layered elsewhere by setting it at any moment.
"""

from __future__ import annotations

import os
from pathlib import Path

from layered.data.errors import DataError

__all__ = ["Config", "layered_home"]

_HOME_VARIABLE = "LAYERED_HOME"


def layered_home() -> Path:
    """The layered home folder: `$LAYERED_HOME` if set and not empty, else `~/.layered` (not created here)."""
    home = os.environ.get(_HOME_VARIABLE) or "~/.layered"
    # Absolute, so that a later `os.chdir` cannot move the cache under the user's feet.
    return Path(home).expanduser().absolute()


class Config:
    """The folders under a layered home (`archive`, `data`, `models`), each created on first use."""

    folders = ("archive", "data", "models")

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = layered_home() if home is None else Path(home).expanduser().absolute()

    def path(self, key: str) -> Path:
        """The folder `key` (one of `Config.folders`) under the home, created if missing."""
        if key not in self.folders:
            raise DataError(f"Config.path: unknown folder {key!r}; expected one of {', '.join(self.folders)}")
        folder = self.home / key
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def archive(self) -> Path:
        """Where downloaded archives are kept."""
        return self.path("archive")

    @property
    def data(self) -> Path:
        """Where archives are extracted, one folder per data set."""
        return self.path("data")

    @property
    def models(self) -> Path:
        """Where model weights are kept."""
        return self.path("models")

    def __repr__(self) -> str:
        return f"Config(home={str(self.home)!r})"
