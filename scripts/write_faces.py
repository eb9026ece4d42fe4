"""Write every package's (and room's) `__init__.py`: its docstring, version and lazy map of public names.

Usage: python scripts/write_faces.py [--check]

A package's face holds the names of its own modules' `__all__` (not those of the layers below),
each mapped to the module that defines it, or to the room (subpackage) whose face holds it. With `--check`, nothing is written: the script lists
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
    where: dict[str, str] = {}
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        leaf = info.name.rsplit(".", 1)[1]
        if info.ispkg or leaf == "all" or leaf.startswith("_"):
            continue
        # a name of a room (subpackage) is looked up through the room's own face
        room = ".".join(info.name.split(".")[: package.count(".") + 2])
        for name in importlib.import_module(info.name).__all__:
            where.setdefault(name, room if room != info.name else info.name)
    clashes = sorted(n for n in where if n in {m.name for m in pkgutil.iter_modules(pkg.__path__)})
    if clashes:
        raise SystemExit(f"{package}: public names {clashes} are also module names; rename the modules")
    lines = [f'"""{doc}"""', "", "from layered.core.lazy import lazy_face", ""]
    if version is not None:
        lines += [f'__version__ = "{version}"', ""]
    lines.append("_WHERE = {")
    lines += [f'    "{n}": "{m}",' for n, m in sorted(where.items(), key=lambda kv: (kv[1], kv[0]))]
    lines += ["}", ""]
    lines.append('__all__ = ["__version__", *_WHERE]' if version is not None else "__all__ = list(_WHERE)")
    lines += ["__getattr__, __dir__ = lazy_face(__name__, _WHERE)", ""]
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
