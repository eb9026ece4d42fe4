"""Hyper-parameter schedules: values as functions of training progress `pos` in [0, 1].

A schedule goes from `start` (at pos 0) to `end` (at pos 1) along a curve: `SchedLin`,
`SchedCos`, `SchedNo`, `SchedExp`, `SchedPoly`. `start` and `end` are numbers or one value per
parameter group (tuple, list, array); per-group schedules return arrays. `combine_scheds` chains
schedules over consecutive fractions of training, and the policies (`one_cycle_scheds`,
`flat_cos_scheds`, `sgdr_scheds`) return `{hyper_name: schedule}` for `ParamScheduler`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from layered.train.errors import TrainError

__all__ = [
    "CombinedSchedule",
    "SchedCos",
    "SchedExp",
    "SchedLin",
    "SchedNo",
    "SchedPoly",
    "Schedule",
    "combine_scheds",
    "flat_cos_scheds",
    "one_cycle_scheds",
    "sgdr_scheds",
]

Value = float | np.ndarray


def _as_value(x: Any, name: str) -> Value:
    """A float, or a float array for per-group values."""
    arr = np.array(x, dtype=float)
    if arr.ndim > 1:
        raise TrainError(f"schedule {name}: expected a number or one value per group, got shape {arr.shape}")
    return float(arr) if arr.ndim == 0 else arr


def _check_pos(pos: float) -> None:
    if not 0 <= pos <= 1:
        raise TrainError(f"schedule: pos must be in [0, 1], got {pos}")


def _linear(start: Value, end: Value, pos: float) -> Value:
    return start + pos * (end - start)


def _cos(start: Value, end: Value, pos: float) -> Value:
    # half a cosine: flat at both ends, steepest in the middle
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def _constant(start: Value, end: Value, pos: float) -> Value:
    return start


def _exp(start: Value, end: Value, pos: float) -> Value:
    return start * (end / start) ** pos


def _poly(start: Value, end: Value, pos: float, power: float) -> Value:
    return start + (end - start) * pos**power


class Schedule:
    """A value moving from `start` (pos 0) to `end` (pos 1) along `curve(start, end, pos)`."""

    def __init__(self, start: Any, end: Any, curve: Callable[[Value, Value, float], Value]):
        self.start, self.end, self.curve = _as_value(start, "start"), _as_value(end, "end"), curve
        shapes = {np.shape(self.start), np.shape(self.end)} - {()}
        if len(shapes) > 1:
            raise TrainError(f"schedule: start and end hold different numbers of groups {sorted(shapes)}")

    def __call__(self, pos: float) -> Value:
        """The value at `pos` in [0, 1]: a float, or an array of per-group values."""
        _check_pos(pos)
        v = self.curve(self.start, self.end, pos)
        return float(v) if np.ndim(v) == 0 else np.array(v, dtype=float)

    def __repr__(self) -> str:
        name = getattr(self.curve, "func", self.curve).__name__.strip("_")
        return f"Schedule({name}: {self.start} -> {self.end})"


def SchedLin(start: Any, end: Any) -> Schedule:
    """Linear from `start` to `end`."""
    return Schedule(start, end, _linear)


def SchedCos(start: Any, end: Any) -> Schedule:
    """Cosine annealing from `start` to `end` (flat at both ends)."""
    return Schedule(start, end, _cos)


def SchedNo(start: Any, end: Any = None) -> Schedule:
    """Constant at `start` (`end` is ignored; kept so every schedule has the same signature)."""
    return Schedule(start, start, _constant)


def SchedExp(start: Any, end: Any) -> Schedule:
    """Exponential (even steps on a log scale) from `start` to `end`: non-zero, with one sign."""
    if np.any(np.asarray(start, dtype=float) * np.asarray(end, dtype=float) <= 0):
        raise TrainError(
            f"SchedExp: start and end must be non-zero with the same sign, got {start} and {end}"
        )
    return Schedule(start, end, _exp)


def SchedPoly(start: Any, end: Any, power: float) -> Schedule:
    """`start + (end - start) * pos**power`."""
    return Schedule(start, end, partial(_poly, power=power))


class CombinedSchedule:
    """Schedules run one after another, each over its fraction `pcts[i]` of training."""

    def __init__(self, pcts: Sequence[float], scheds: Sequence[Callable[[float], Value]]):
        pcts = [float(p) for p in pcts]
        if len(pcts) != len(scheds) or not pcts:
            raise TrainError(f"combine_scheds: got {len(pcts)} fractions for {len(scheds)} schedules")
        if min(pcts) < 0 or not math.isclose(sum(pcts), 1.0, abs_tol=1e-6):
            raise TrainError(f"combine_scheds: fractions must be >= 0 and sum to 1, got {pcts}")
        self.pcts, self.scheds = pcts, list(scheds)
        self.starts = np.cumsum([0.0, *pcts[:-1]]).tolist()

    def __call__(self, pos: float) -> Value:
        """The value at `pos` in [0, 1], from the schedule whose fraction holds `pos`."""
        _check_pos(pos)
        # the last phase that has started; empty phases (pct 0) never run
        i = max(i for i, (s, p) in enumerate(zip(self.starts, self.pcts)) if p > 0 and pos >= s)
        return self.scheds[i](min(1.0, (pos - self.starts[i]) / self.pcts[i]))

    def __repr__(self) -> str:
        return f"CombinedSchedule({self.pcts}, {self.scheds})"


def combine_scheds(pcts: Sequence[float], scheds: Sequence[Callable[[float], Value]]) -> CombinedSchedule:
    """Chain `scheds`, the i-th running over fraction `pcts[i]` of training (the fractions sum to 1)."""
    return CombinedSchedule(pcts, scheds)


def _cos_phases(pct_start: float, start: Any, middle: Any, end: Any) -> CombinedSchedule:
    return combine_scheds([pct_start, 1 - pct_start], [SchedCos(start, middle), SchedCos(middle, end)])


def one_cycle_scheds(
    lr_max: Any,
    div: float = 25.0,
    div_final: float = 1e5,
    pct_start: float = 0.25,
    moms: tuple[float, float, float] | None = (0.95, 0.85, 0.95),
) -> dict[str, CombinedSchedule]:
    """1cycle: `lr` rises (cosine) from `lr_max/div` to `lr_max`, then falls to `lr_max/div_final`.

    The rise takes the first `pct_start` of training. `mom` moves the opposite way,
    `moms[0] -> moms[1] -> moms[2]`; `moms=None` leaves it alone. `lr_max` may hold one value per
    parameter group.
    """
    lr_max = _as_value(lr_max, "lr_max")
    scheds = {"lr": _cos_phases(pct_start, lr_max / div, lr_max, lr_max / div_final)}
    if moms is not None:
        if len(moms) != 3:
            raise TrainError(f"one_cycle_scheds: moms must be (start, middle, end), got {moms}")
        scheds["mom"] = _cos_phases(pct_start, *moms)
    return scheds


def flat_cos_scheds(lr: Any, pct_start: float = 0.75, div_final: float = 1e5) -> dict[str, CombinedSchedule]:
    """`lr` constant for `pct_start` of training, then cosine annealing to `lr/div_final`."""
    lr = _as_value(lr, "lr")
    return {"lr": combine_scheds([pct_start, 1 - pct_start], [SchedNo(lr), SchedCos(lr, lr / div_final)])}


def sgdr_scheds(
    n_cycles: int, cycle_len: float, lr_max: Any, cycle_mult: float = 2
) -> dict[str, CombinedSchedule]:
    """SGD with warm restarts: `n_cycles` cosine annealings from `lr_max` to 0, each `cycle_mult`x longer.

    Training lasts `cycle_len * (1 + cycle_mult + ... + cycle_mult**(n_cycles-1))` epochs in all.
    """
    if n_cycles < 1 or cycle_len <= 0 or cycle_mult <= 0:
        raise TrainError(
            f"sgdr_scheds: needs n_cycles >= 1, cycle_len > 0 and cycle_mult > 0, "
            f"got {n_cycles}, {cycle_len}, {cycle_mult}"
        )
    lengths = [cycle_len * cycle_mult**i for i in range(n_cycles)]
    total = sum(lengths)
    return {"lr": combine_scheds([n / total for n in lengths], [SchedCos(lr_max, 0.0)] * n_cycles)}
