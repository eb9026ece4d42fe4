"""Install each built wheel alone (with only the wheels below it) in a fresh venv, and import it.

This is the check a user's `pip install layered-core` makes: no workspace, no editable paths.
Layers are installed bottom-up into one venv; each application layer is removed again before
the next sibling is tried, so every import runs with only the layers below it present.
Usage: python scripts/check_wheels.py [--venv DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_all import build_all
from workspace import distributions

_IMPORT_ALL = r"""
import importlib, json, pkgutil, sys
part = sys.argv[1]
pkg = importlib.import_module("layered." + part)
mods = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
for m in mods:
    importlib.import_module(m)
parts = sorted({m.split(".")[1] for m in sys.modules if m.startswith("layered.")})
print(f"layered.{part} {pkg.__version__}: {len(mods) + 1} modules imported; parts loaded: {parts}")
print(json.dumps(parts))
"""

# (distribution, remove it again afterwards?) in install order.
_PLAN = [
    ("layered-core", False),
    ("layered-data", False),
    ("layered-train", False),
    ("layered-vision", True),
    ("layered-text", True),
    ("layered-tabular", False),
    ("layered-collab", False),
    ("layered", False),
]


def main() -> int:
    """Build, install layer by layer, import; exit status 1 on the first failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=None)
    args = parser.parse_args()
    # the venv holds a full torch (about 6 GB): it must not outlive the run, failed or not
    with tempfile.TemporaryDirectory(prefix="layered-wheels-") as work:
        return _check(Path(work), args.venv or Path(work) / "venv")


def _check(work: Path, env_dir: Path) -> int:
    """Build the wheels into `work` and install them layer by layer into a new venv at `env_dir`."""
    wheels = {w.name.split("-")[0].replace("_", "-"): w for w in build_all(work / "dist", wheel_only=True)}
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    dists = distributions()
    for name, remove_after in _PLAN:
        files = [str(wheels[n]) for n in _below(name, dists)]
        print(f"== pip install {name} (+ {len(files) - 1} wheels below it)", flush=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-cache-dir", *files], check=True)
        out = subprocess.run(
            [python, "-c", _IMPORT_ALL, dists[name].import_name], capture_output=True, text=True
        )
        if out.returncode != 0:
            print(out.stderr[-3000:])
            return 1
        report, loaded = out.stdout.strip().splitlines()[-2:]
        print(report, flush=True)
        allowed = {dists[n].import_name for n in _below(name, dists)}
        if not set(json.loads(loaded)) <= allowed:
            print(f"{name} loaded parts above it: {loaded}")
            return 1
        if remove_after:
            subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", name], check=True)
    print("every wheel installs and imports on its own")
    return 0


def _below(name: str, dists) -> list[str]:
    """`name` and every layered distribution it depends on, transitively."""
    seen, todo = [], [name]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.append(n)
            todo += sorted(dists[n].sibling_names)
    return seen


if __name__ == "__main__":
    raise SystemExit(main())
