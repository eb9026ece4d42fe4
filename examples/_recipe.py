"""What every recipe in `examples/recipe_*.py` shares: the registry data helper, timing, the floor check."""

from __future__ import annotations

import sys
import time
from pathlib import Path

__all__ = ["Stopwatch", "check_floor", "fetch"]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from registry_data import fetch


class Stopwatch:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Seconds elapsed so far."""
        return time.perf_counter() - self.start


def check_floor(name: str, value: float, floor: float, seconds: float, higher_is_better: bool = True) -> None:
    """Print the recipe's result line and exit non-zero when `value` is on the wrong side of `floor`."""
    ok = value >= floor if higher_is_better else value <= floor
    sign = ">=" if higher_is_better else "<="
    print(
        f"RESULT {name}: {value:.4f} (floor {sign} {floor}) in {seconds:.0f} s -> {'ok' if ok else 'BELOW FLOOR'}"
    )
    if not ok:
        raise SystemExit(1)
