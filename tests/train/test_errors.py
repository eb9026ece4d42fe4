"""TrainError: what layered-train raises, a LayeredError and a RuntimeError."""

import pytest
import torch

from layered.core.errors import LayeredError
from layered.train.errors import TrainError
from layered.train.optim.algorithms import SGD
from layered.train.optim.lookahead import Lookahead


def test_train_error_is_a_layered_runtime_error_naming_what_was_expected():
    assert issubclass(TrainError, LayeredError) and issubclass(TrainError, RuntimeError)
    with pytest.raises(TrainError, match=r"layered optimizer .* got a list"):
        Lookahead([])
    opt = SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(TrainError, match="k \\(fast steps per slow step\\) must be an int >= 1, got 0"):
        Lookahead(opt, k=0)
