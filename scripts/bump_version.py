"""Set one version on every distribution and on every exact sibling pin.

Usage: python scripts/bump_version.py 0.2.0 [--root DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workspace import LAYERS, ROOT

VERSION_RE = re.compile(r"^\d+\.\d+\.\d+([.-]?(a|b|rc|dev|post)\d*)?$")


def bump(root: Path, version: str) -> list[Path]:
    """Rewrite versions, sibling pins and `__version__` strings under `root`; return changed files."""
    if not VERSION_RE.match(version):
        raise SystemExit(f"bump_version: {version!r} is not a version like 1.2.3")
    siblings = "|".join(re.escape(n) for n in sorted(LAYERS, key=len, reverse=True))
    pin = re.compile(rf'"({siblings})==[^"]*"')
    changed = []
    files = [root / "pyproject.toml", *root.glob("packages/*/pyproject.toml")]
    files += root.glob("packages/*/src/layered/*/__init__.py")
    for path in files:
        text = path.read_text()
        new = re.sub(r'(?m)^version = "[^"]*"', f'version = "{version}"', text)
        new = pin.sub(lambda m: f'"{m.group(1)}=={version}"', new)
        new = re.sub(r'(?m)^__version__ = "[^"]*"', f'__version__ = "{version}"', new)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    for path in bump(args.root, args.version):
        print(f"updated {path.relative_to(args.root)}")


if __name__ == "__main__":
    main()
