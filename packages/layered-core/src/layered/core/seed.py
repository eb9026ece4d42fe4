"""One seed for Python's `random`, NumPy and PyTorch."""

from __future__ import annotations

import random

import numpy as np
import torch

from layered.core.errors import LayeredError

__all__ = ["set_seed"]


def set_seed(s: int, reproducible: bool = False) -> None:
    """Seed `random`, NumPy's global generator and torch (CPU and every CUDA device) with `s`.

    `reproducible=True` also makes cuDNN deterministic and turns off its benchmark mode, trading
    speed for identical results from run to run on the GPU.
    """
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        raise LayeredError(f"set_seed: expected an integer seed, found {type(s).__name__} {s!r}")
    s = int(s)
    random.seed(s)
    np.random.seed(s % 2**32)  # NumPy only takes seeds in [0, 2**32)
    torch.manual_seed(s % 2**64)  # torch takes 64-bit seeds; larger Python ints would overflow
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(s % 2**64)
    if reproducible:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
