"""Measure another git revision of layered beside this one, in the same run.

`baseline_worker(ref, script, args)` extracts the `packages/` of `ref` (e.g. `main`) with
`git archive` into a temporary folder and starts `script *args` (arguments that make it a
worker) in a process whose `PYTHONPATH` puts that revision's sources ahead of the installed
(editable) ones, so the same benchmark code runs on the old library. The worker builds its case, warms it up, then times one
run per request; the parent interleaves those requests with its own cases, so both revisions see
the same machine load.

A script supports this by calling `serve(case)` when given its worker flag: `case()` runs the thing
measured once.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["BaselineWorker", "baseline_worker", "serve"]

ROOT = Path(__file__).resolve().parent.parent


def _extract(ref: str, dest: Path) -> list[str]:
    """The `src` folders of every distribution of revision `ref`, extracted under `dest`."""
    tar = subprocess.run(
        ["git", "archive", ref, "packages"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(dest, filter="data")
    return sorted(str(p) for p in (dest / "packages").glob("*/src"))


class BaselineWorker:
    """A process running a benchmark case on another revision; `run()` times one call, in seconds."""

    def __init__(self, ref: str, script: Path, args: list[str]):
        self._tmp = tempfile.TemporaryDirectory(prefix="layered-baseline-")
        srcs = _extract(ref, Path(self._tmp.name))
        self.commit = subprocess.run(
            ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([*srcs, os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        where = self._reply()
        if not where.startswith(self._tmp.name):
            raise RuntimeError(f"the baseline worker imported layered from {where}, not from {ref}")

    def _reply(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the baseline worker exited (status {self.proc.wait()})")
        return line.strip()

    def run(self) -> float:
        """Run the case once in the worker; the seconds it took there."""
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return float(self._reply())

    def close(self) -> None:
        """Stop the worker and remove the extracted sources."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()
        self._tmp.cleanup()


def baseline_worker(ref: str, script: str | Path, args: list[str]) -> BaselineWorker:
    """Start `script *args` on revision `ref` of the library (see the module docstring)."""
    return BaselineWorker(ref, Path(script).resolve(), args)


def serve(case: Callable[[], None]) -> None:
    """The worker's side: report where layered was imported from, then time `case` once per `run` line."""
    import layered.core

    case()  # warm-up, untimed
    print(Path(layered.core.__file__).parent, flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start = time.perf_counter()
        case()
        print(time.perf_counter() - start, flush=True)
