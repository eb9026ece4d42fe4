"""Import every module of each layer in a fresh interpreter that cannot see the layers above it.

Static import contracts miss imports made through importlib or strings; this check runs the code.
Usage: python scripts/check_isolation.py [distribution ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workspace import Distribution, distributions

__all__ = ["check_isolation", "main"]

# Runs in the child: hide every layered source folder, show only the allowed ones, import all.
_CHILD = r"""
import importlib, json, pkgutil, sys, traceback
cfg = json.loads(sys.argv[1])
sys.path[:] = [p for p in sys.path if p not in cfg["hidden"]]
sys.path[0:0] = cfg["visible"]
failures = []
for part in cfg["parts"]:
    name = "layered." + part
    try:
        pkg = importlib.import_module(name)
    except Exception:
        failures.append(name + ": " + traceback.format_exc(limit=-3))
        continue
    for mod in pkgutil.walk_packages(pkg.__path__, name + "."):
        try:
            importlib.import_module(mod.name)
        except Exception:
            failures.append(mod.name + ": " + traceback.format_exc(limit=-3))
leaked = sorted(m for m in sys.modules if m.startswith("layered.") and m.split(".")[1] not in cfg["allowed"])
print(json.dumps({"failures": failures, "leaked": leaked}))
"""


def _allowed_parts(dist: Distribution, dists: dict[str, Distribution]) -> list[Distribution]:
    seen, todo = {}, [dist]
    while todo:
        d = todo.pop()
        if d.name not in seen:
            seen[d.name] = d
            todo += [dists[n] for n in d.sibling_names]
    return list(seen.values())


def check_isolation(dist: Distribution, dists: dict[str, Distribution] | None = None) -> list[str]:
    """Problems found importing `dist` with only it and the layers below it visible."""
    dists = distributions() if dists is None else dists
    visible = _allowed_parts(dist, dists)
    cfg = {
        "hidden": [str(d.source.parent.parent) for d in dists.values()],
        "visible": [str(d.source.parent.parent) for d in visible],
        "parts": [dist.import_name],
        "allowed": [d.import_name for d in visible],
    }
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(cfg)], capture_output=True, text=True, timeout=600
    )
    if out.returncode != 0:
        return [f"{dist.name}: the isolated interpreter failed:\n{out.stderr[-2000:]}"]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    problems = [f"{dist.name}: cannot import {f}" for f in result["failures"]]
    problems += [f"{dist.name}: loaded {m}, a layer it must not see" for m in result["leaked"]]
    return problems


def main() -> int:
    """Check the named distributions (all by default); exit status 1 on any problem."""
    dists = distributions()
    names = sys.argv[1:] or list(dists)
    problems = [p for n in names for p in check_isolation(dists[n], dists)]
    print("\n".join(problems) or f"isolation holds: {', '.join(names)}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
