"""Lazy package faces: a package's public names, each imported from its module on first use.

A package's `__init__` lists, one line per module, which public names each of its modules
defines (`"learner: Learner load_learner"`), and names its rooms (subpackages with faces of
their own, whose names it re-exports). It hands both to `lazy_face`, so
`from layered.train import Learner` works while `import layered.train` imports nothing heavy.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

from layered.core.errors import LayeredError

__all__ = ["FaceError", "lazy_face"]


class FaceError(LayeredError, ImportError):
    """A package face lists a name twice or a line it cannot read."""


def _where(package: str, names: str, rooms: Iterable[str]) -> dict[str, str]:
    """Each public name of `package` and the module (or room package) it is imported from."""
    where: dict[str, str] = {}

    def add(name: str, module: str) -> None:
        if name in where:
            raise FaceError(f"{package}: {name!r} is listed by both {where[name]} and {module}")
        where[name] = module

    for line in names.strip().splitlines():
        module, sep, listed = line.partition(":")
        if not sep or not module.strip():
            raise FaceError(f"{package}: face line {line!r} is not 'module: Name Name ...'")
        for name in listed.split():
            add(name, f"{package}.{module.strip()}")
    for room in rooms:
        face = importlib.import_module(f"{package}.{room}")  # a face itself: cheap to import
        for name in face.__all__:
            if name != "__version__":
                add(name, face.__name__)
    return where


def lazy_face(
    package: str, names: str, rooms: Iterable[str] = ()
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """The public names, `__getattr__` and `__dir__` of `package` (see the module doc for `names`)."""
    where = _where(package, names, rooms)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(sys.modules[package])))

    return list(where), __getattr__, __dir__
