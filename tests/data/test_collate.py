import numpy as np
import pytest
import torch

from layered.core.tensor import TensorBase
from layered.data.collate import collate
from layered.data.errors import DataError


class TImage(TensorBase):
    pass


def test_collate_structures_and_types():
    samples = [(TImage(torch.ones(2), size=2), 1, "a", {"k": np.zeros(3)}) for _ in range(4)]
    x, y, s, d = collate(samples)
    assert type(x) is TImage and x.shape == (4, 2) and x.size == 2
    assert torch.equal(y, torch.ones(4, dtype=torch.long))
    assert s == ["a"] * 4 and d["k"].shape == (4, 3)


def test_collate_names_the_shape_problem():
    with pytest.raises(DataError, match="different shapes"):
        collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(DataError, match="sample 1 has 1 elements"):
        collate([(1, 2), (1,)])
