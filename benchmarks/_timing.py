"""Timing helpers shared by the benchmarks: interleaved repeats, medians, markdown tables.

Every comparison times the layered side and the plain side in turn, inside one process, and
reports the median over repeats, so that machine drift (turbo, other load) hits both alike.
"""

from __future__ import annotations

import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["fmt_time", "interleaved", "per_call", "print_table", "ratio_row", "verdict"]

Case = Callable[[], Any] | str


def per_call(
    case: Case, number: int, namespace: dict | None = None, timer: Callable[[], float] = time.perf_counter
) -> float:
    """Seconds per call of `case` (a callable, or a statement run in `namespace`) over `number` calls.

    `timeit` pauses the garbage collector while it runs, so a collection triggered by one side
    does not land on the other. A statement avoids the cost of calling a wrapper, which matters
    when the thing measured takes nanoseconds. `timer=time.process_time` counts this process's
    CPU seconds instead of wall seconds: on a machine crowded by other jobs, the work itself.
    """
    return timeit.Timer(case, timer=timer, globals=namespace).timeit(number) / number


def interleaved(
    cases: dict[str, Case],
    number: int,
    repeats: int,
    namespace: dict | None = None,
    timer: Callable[[], float] = time.perf_counter,
) -> dict:
    """Median seconds per call of each case, the cases timed in turn within every repeat.

    One untimed warm-up pass fills caches first; the order of the cases alternates between
    repeats so that no case always runs first (right after a warm-up) or last.
    """
    for case in cases.values():
        per_call(case, max(1, number // 10), namespace, timer)
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(per_call(cases[name], number, namespace, timer))
    return {name: statistics.median(ts) for name, ts in times.items()}


def fmt_time(seconds: float) -> str:
    """A duration with a readable unit: ns, µs, ms or s."""
    for unit, scale in (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3)):
        if seconds / scale < 999.95:  # what would print as 1000.0 moves up a unit
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds:.2f} s"


def verdict(value: float, limit: float) -> str:
    """`pass` when `value` is within `limit`, else `FAIL`."""
    return "pass" if value <= limit else "FAIL"


def ratio_row(label: str, ours: float, plain: float, limit: float | None) -> list[str]:
    """A table row: label, both times, their ratio, the limit on the ratio and the verdict."""
    ratio = ours / plain
    if limit is None:
        return [label, fmt_time(ours), fmt_time(plain), f"{ratio:.2f}x", "—", "—"]
    return [label, fmt_time(ours), fmt_time(plain), f"{ratio:.2f}x", f"≤{limit:.2f}x", verdict(ratio, limit)]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a markdown table, its columns padded to line up in a terminal too."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
