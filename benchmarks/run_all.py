"""Run every benchmark script in this folder, one after another, printing their tables.

Usage: python benchmarks/run_all.py [name ...]   (e.g. `core data`; default: all)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run the named benchmarks (all by default); exit status 1 if any failed to run."""
    names = sys.argv[1:] or sorted(
        p.stem for p in HERE.glob("*.py") if not p.stem.startswith(("_", "run_all"))
    )
    failed = []
    for name in names:
        print(f"\n## benchmarks/{name}.py\n", flush=True)
        if subprocess.run([sys.executable, str(HERE / f"{name}.py")], cwd=HERE).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
