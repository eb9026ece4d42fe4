"""Build the wheel and sdist of every distribution into one folder (default: dist/).

Usage: python scripts/build_all.py [--out DIR] [--wheel-only]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workspace import ROOT, distributions

__all__ = ["build_all"]


def build_all(out: Path, wheel_only: bool = False) -> list[Path]:
    """Build every distribution with hatchling into `out`; return the files built."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.iterdir())
    targets = ["-t", "wheel"] if wheel_only else ["-t", "wheel", "-t", "sdist"]
    for dist in distributions().values():
        subprocess.run(
            [sys.executable, "-m", "hatchling", "build", *targets, "-d", str(out)],
            cwd=dist.folder,
            check=True,
        )
    return sorted(set(out.iterdir()) - before)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--wheel-only", action="store_true")
    args = parser.parse_args()
    for path in build_all(args.out.resolve(), args.wheel_only):
        print(path.name)


if __name__ == "__main__":
    main()
