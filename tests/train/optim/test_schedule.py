"""Schedules: values at 0, 0.5 and 1, per-group arrays, combining and the training policies."""

import math

import numpy as np
import pytest
import torch

from layered.train.errors import TrainError
from layered.train.optim.algorithms import SGD
from layered.train.optim.schedule import (
    SchedCos,
    SchedExp,
    SchedLin,
    SchedNo,
    SchedPoly,
    combine_scheds,
    flat_cos_scheds,
    one_cycle_scheds,
    sgdr_scheds,
)


@pytest.mark.parametrize(
    ("sched", "at0", "at_half", "at1"),
    [
        (SchedLin(0.0, 2.0), 0.0, 1.0, 2.0),
        (SchedCos(0.0, 2.0), 0.0, 1.0, 2.0),
        (SchedCos(2.0, 0.0), 2.0, 1.0, 0.0),
        (SchedNo(3.0, 5.0), 3.0, 3.0, 3.0),
        (SchedExp(1e-4, 1.0), 1e-4, 1e-2, 1.0),
        (SchedPoly(0.0, 1.0, 2), 0.0, 0.25, 1.0),
        (SchedPoly(1.0, 0.0, 0.5), 1.0, 1 - math.sqrt(0.5), 0.0),
    ],
)
def test_values_at_0_half_1(sched, at0, at_half, at1):
    assert [sched(0.0), sched(0.5), sched(1.0)] == pytest.approx([at0, at_half, at1])
    assert type(sched(0.5)) is float


def test_cos_is_flat_at_the_ends():
    s = SchedCos(0.0, 1.0)
    assert s(0.1) < SchedLin(0.0, 1.0)(0.1)
    assert s(0.9) > SchedLin(0.0, 1.0)(0.9)


def test_per_group_values_give_arrays():
    s = SchedLin((0.0, 1.0), np.array([2.0, 3.0]))
    v = s(0.5)
    assert isinstance(v, np.ndarray) and v.shape == (2,)
    np.testing.assert_allclose(v, [1.0, 2.0])
    np.testing.assert_allclose(SchedCos([1.0, 10.0], 0.0)(1.0), [0.0, 0.0])
    np.testing.assert_allclose(SchedExp([1e-3, 1e-2], [1e-1, 1.0])(0.5), [1e-2, 1e-1])
    v = SchedNo([1.0, 2.0])(0.7)
    v[0] = 99.0  # a copy: the schedule keeps its values
    np.testing.assert_allclose(SchedNo([1.0, 2.0])(0.7), [1.0, 2.0])


def test_schedule_errors():
    with pytest.raises(TrainError, match=r"pos must be in \[0, 1\], got 1.5"):
        SchedLin(0, 1)(1.5)
    with pytest.raises(TrainError, match="SchedExp"):
        SchedExp(0.0, 1.0)
    with pytest.raises(TrainError, match="different numbers of groups"):
        SchedLin([1, 2], [1, 2, 3])
    with pytest.raises(TrainError, match="one value per group"):
        SchedLin([[1, 2]], 0)


def test_combine_scheds_values_and_shapes():
    s = combine_scheds([0.25, 0.75], [SchedLin(0.0, 1.0), SchedCos(1.0, 0.0)])
    assert [s(0.0), s(0.125), s(0.25), s(0.625), s(1.0)] == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    groups = combine_scheds(
        [0.5, 0.5], [SchedLin((0.0, 0.0, 0.0), (1.0, 2.0, 3.0)), SchedNo((1.0, 2.0, 3.0))]
    )
    assert groups(0.25).shape == (3,)
    np.testing.assert_allclose(groups(0.25), [0.5, 1.0, 1.5])
    np.testing.assert_allclose(groups(1.0), [1.0, 2.0, 3.0])


def test_combine_scheds_with_an_empty_phase_and_errors():
    s = combine_scheds([0.0, 1.0], [SchedNo(5.0), SchedLin(1.0, 2.0)])
    assert s(0.0) == 1.0 and s(1.0) == 2.0
    s = combine_scheds([1.0, 0.0], [SchedLin(1.0, 2.0), SchedNo(5.0)])
    assert s(1.0) == 2.0
    with pytest.raises(TrainError, match="sum to 1"):
        combine_scheds([0.5, 0.6], [SchedNo(1.0), SchedNo(1.0)])
    with pytest.raises(TrainError, match="2 fractions for 1 schedules"):
        combine_scheds([0.5, 0.5], [SchedNo(1.0)])


def test_one_cycle():
    scheds = one_cycle_scheds(1e-2, div=25.0, div_final=1e5, pct_start=0.25)
    lr, mom = scheds["lr"], scheds["mom"]
    assert [lr(0.0), lr(0.25), lr(1.0)] == pytest.approx([1e-2 / 25, 1e-2, 1e-2 / 1e5])
    assert lr(0.125) == pytest.approx((1e-2 / 25 + 1e-2) / 2)
    assert [mom(0.0), mom(0.25), mom(1.0)] == pytest.approx([0.95, 0.85, 0.95])
    assert set(one_cycle_scheds(1e-2, moms=None)) == {"lr"}


def test_one_cycle_per_group():
    lr = one_cycle_scheds(np.array([1e-4, 1e-3, 1e-2]))["lr"]
    assert lr(0.5).shape == (3,)
    np.testing.assert_allclose(lr(0.25), [1e-4, 1e-3, 1e-2])
    np.testing.assert_allclose(lr(0.0), np.array([1e-4, 1e-3, 1e-2]) / 25)


def test_flat_cos():
    lr = flat_cos_scheds(0.1, pct_start=0.75)["lr"]
    assert [lr(0.0), lr(0.5), lr(0.75), lr(1.0)] == pytest.approx([0.1, 0.1, 0.1, 0.1 / 1e5])
    assert lr(0.875) == pytest.approx((0.1 + 0.1 / 1e5) / 2)
    assert flat_cos_scheds((0.1, 0.2))["lr"](0.9).shape == (2,)


def test_sgdr_restarts():
    lr = sgdr_scheds(3, 1, 0.1, cycle_mult=2)["lr"]
    assert lr.pcts == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    assert [lr(0.0), lr(1 / 7), lr(3 / 7), lr(1.0)] == pytest.approx([0.1, 0.1, 0.1, 0.0])
    assert lr(1 / 7 - 1e-9) == pytest.approx(0.0, abs=1e-6)
    assert lr(2 / 7) == pytest.approx(0.05)
    with pytest.raises(TrainError, match="n_cycles >= 1"):
        sgdr_scheds(0, 1, 0.1)


def test_schedules_drive_an_optimizer():
    params = [[torch.nn.Parameter(torch.zeros(1))] for _ in range(2)]
    opt = SGD(params, lr=0.1, mom=0.9)
    for name, sched in one_cycle_scheds(np.array([1e-3, 1e-2])).items():
        opt.set_hyper(name, sched(0.25))
    assert [h["lr"] for h in opt.hypers] == pytest.approx([1e-3, 1e-2])
    assert [h["mom"] for h in opt.hypers] == pytest.approx([0.85, 0.85])
