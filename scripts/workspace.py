"""Facts about the monorepo shared by the scripts and the repository tests."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

__all__ = ["LAYERS", "PACKAGES", "ROOT", "Distribution", "distributions", "requirement_name"]

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"

# Import name of each distribution, lowest layer first; a layer may import only from earlier ones
# that it depends on (the pyproject pins say which).
LAYERS = {
    "layered-core": "core",
    "layered-data": "data",
    "layered-train": "train",
    "layered-vision": "vision",
    "layered-text": "text",
    "layered-tabular": "tabular",
    "layered-collab": "collab",
    "layered": "all",
}


def requirement_name(req: str) -> str:
    """The normalised project name of a PEP 508 requirement string."""
    return re.split(r"[\s<>=!~;\[(]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


class Distribution:
    """One distribution of the workspace, read from its pyproject.toml."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.meta = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
        self.name: str = self.meta["name"]
        self.version: str = self.meta["version"]
        self.requirements: list[str] = list(self.meta.get("dependencies", []))
        # extra name -> its requirements (`pip install layered-train[onnx]`)
        self.extras: dict[str, list[str]] = dict(self.meta.get("optional-dependencies", {}))
        self.import_name = LAYERS[self.name]
        self.source = folder / "src" / "layered" / self.import_name

    @property
    def dependency_names(self) -> set[str]:
        """Normalised names of the declared dependencies."""
        return {requirement_name(r) for r in self.requirements}

    @property
    def optional_names(self) -> dict[str, str]:
        """Normalised names of the packages of the optional extras, each mapped to its extra's name."""
        return {requirement_name(r): extra for extra, reqs in self.extras.items() for r in reqs}

    @property
    def sibling_names(self) -> set[str]:
        """Declared dependencies that are other layered distributions."""
        return {n for n in self.dependency_names if n in LAYERS}

    def __repr__(self) -> str:
        return f"Distribution({self.name} {self.version})"


def distributions() -> dict[str, Distribution]:
    """Every distribution under packages/, by name, lowest layer first."""
    found = {Distribution(p.parent).name: Distribution(p.parent) for p in PACKAGES.glob("*/pyproject.toml")}
    return {name: found[name] for name in LAYERS if name in found}
