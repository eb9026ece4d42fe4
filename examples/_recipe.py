"""What every recipe in `examples/recipe_*.py` shares: the registry data helper, timing, the floor check."""

from __future__ import annotations

import sys
import time
from pathlib import Path

__all__ = ["Stopwatch", "check_floor", "fetch"]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from registry_data import fetch


class Stopwatch:
    """Wall-clock and CPU seconds since creation (CPU time: a fairer figure on a shared machine)."""

    def __init__(self) -> None:
        self.start, self.start_cpu = time.perf_counter(), time.process_time()

    @property
    def seconds(self) -> float:
        """Wall-clock seconds elapsed so far."""
        return time.perf_counter() - self.start

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds this process used so far (all its threads)."""
        return time.process_time() - self.start_cpu


def check_floor(
    name: str,
    value: float,
    floor: float,
    clock: Stopwatch,
    higher_is_better: bool = True,
    exit_below: bool = True,
) -> bool:
    """Print the recipe's result line; exit non-zero when `value` is on the wrong side of `floor`.

    With `exit_below=False` it returns whether the floor was met instead, so a recipe with two
    floors can print both results before it exits.
    """
    seconds = f"{clock.seconds:.0f} s wall, {clock.cpu_seconds:.0f} s CPU"
    ok = value >= floor if higher_is_better else value <= floor
    sign = ">=" if higher_is_better else "<="
    print(
        f"RESULT {name}: {value:.4f} (floor {sign} {floor}) in {seconds} -> {'ok' if ok else 'BELOW FLOOR'}"
    )
    if not ok and exit_below:
        raise SystemExit(1)
    return ok
