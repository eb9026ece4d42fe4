import random

import numpy as np
import pytest
import torch

from layered.core.errors import LayeredError
from layered.core.seed import set_seed


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1)), int(torch.randint(0, 10**9, ()))


def test_set_seed_makes_python_numpy_and_torch_repeat():
    set_seed(123)
    first = draw()
    set_seed(123)
    second = draw()
    assert second == first
    set_seed(124)
    other = draw()
    assert all(a != b for a, b in zip(other, first))  # each of the three generators was reseeded


def test_large_and_negative_seeds_are_accepted():
    for s in (2**40 + 7, -3):
        set_seed(s)
        first = draw()
        set_seed(s)
        assert draw() == first


def test_reproducible_sets_cudnn_flags():
    old = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    try:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True
        set_seed(0)
        assert (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) == (False, True)
        set_seed(0, reproducible=True)
        assert (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) == (True, False)
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old


def test_seed_must_be_an_integer():
    with pytest.raises(LayeredError, match="integer seed, found float"):
        set_seed(1.5)
    set_seed(np.int64(5))
    first = draw()
    set_seed(5)
    assert draw() == first
