"""Parameter groups: trainable and norm parameters, and learning rates spread over groups."""

import numpy as np
import pytest
from torch import nn

from layered.train.optim.param_groups import (
    even_mults,
    expand_lr,
    norm_bias_params,
    norm_params,
    trainable_params,
)


def model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2, bias=False))


def test_trainable_norm_and_bias_params():
    m = model()
    m[2].weight.requires_grad_(False)
    assert [len(g) for g in trainable_params(m)] == [4]
    bn = {id(p) for p in m[1].parameters()}
    assert {id(p) for p in norm_params(m)} == bn
    assert {id(p) for p in norm_bias_params(m)} == bn | {id(m[0].bias)}


def test_even_mults_and_expand_lr():
    assert even_mults(1e-3, 1e-1, 3) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert expand_lr(slice(1e-3, 1e-1), 3) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert expand_lr(slice(None, 1e-2), 3) == pytest.approx([1e-3, 1e-3, 1e-2])
    assert np.allclose(expand_lr(0.5, 2), [0.5, 0.5])
