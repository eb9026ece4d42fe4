"""Write every package's (and room's) `__init__.py`: its docstring, version and lazy map of public names.

Usage: python scripts/write_faces.py [--check]

A package's face holds the names of its own modules' `__all__` (not those of the layers below),
one line per module, and names its rooms (subpackages), whose faces give their own names. With `--check`, nothing is written: the script lists
the faces that are out of date and exits 1 if any is.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def face_source(init: Path, package: str) -> str:
    """The `__init__.py` text for `package`: its present docstring and version, then the name map."""
    tree = ast.parse(init.read_text())
    doc = ast.get_docstring(tree, clean=False) or f"{package}."
    version = next(
        (
            node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "__version__" for t in node.targets)
        ),
        None,
    )
    pkg = importlib.import_module(package)
    modules: dict[str, list[str]] = {}
    rooms: list[str] = []
    seen: set[str] = set()  # a name a module re-exports is listed under the first module that gives it
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name == "all" or info.name.startswith("_"):
            continue
        if info.ispkg:
            rooms.append(info.name)
            continue
        names = [n for n in importlib.import_module(f"{package}.{info.name}").__all__ if n not in seen]
        seen.update(names)
        if names:
            modules[info.name] = names
    clashes = sorted(
        n for ns in modules.values() for n in ns if n in {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    )
    if clashes:
        raise SystemExit(f"{package}: public names {clashes} are also module names; rename the modules")
    lines = [f'"""{doc}"""', "", "from layered.core.lazy import lazy_face", ""]
    if version is not None:
        lines += [f'__version__ = "{version}"', ""]
    lines.append("# each module's public names, imported from it on first use")
    lines.append('_NAMES = """')
    lines += [f"{m}: {' '.join(sorted(ns))}" for m, ns in sorted(modules.items())]
    lines.append('"""')
    if rooms:
        lines.append("# subpackages (rooms) whose public names this face also gives")
        lines.append(f"_ROOMS = {rooms!r}".replace("'", '"'))
    lines.append("")
    call = "lazy_face(__name__, _NAMES, _ROOMS)" if rooms else "lazy_face(__name__, _NAMES)"
    lines.append(f"_PUBLIC, __getattr__, __dir__ = {call}")
    lines.append('__all__ = ["__version__", *_PUBLIC]' if version is not None else "__all__ = _PUBLIC")
    lines.append("")
    return "\n".join(lines)


def faces() -> list[tuple[Path, str]]:
    """Every package `__init__.py` under packages/*/src/layered/ and its dotted name (not the meta-package)."""
    out = []
    for init in sorted(ROOT.glob("packages/layered-*/src/layered/**/__init__.py")):
        package = ".".join(init.parent.parts[init.parent.parts.index("src") + 1 :])
        out.append((init, package))
    return out


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    stale = []
    for init, package in faces():
        text = face_source(init, package)
        if init.read_text() != text:
            stale.append(init)
            if not check:
                init.write_text(text)
    for init in stale:
        print(("out of date: " if check else "wrote ") + str(init.relative_to(ROOT)))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
