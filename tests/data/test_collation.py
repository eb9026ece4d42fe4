from collections import namedtuple

import numpy as np
import pytest
import torch

from layered.core.tensor_types import TensorBase
from layered.data.collation import collate, convert
from layered.data.errors import DataError


class TImage(TensorBase):
    pass


def test_collate_structures_and_types():
    samples = [(TImage(torch.full((2,), float(i)), size=2), i, "a", {"k": np.zeros(3)}) for i in range(4)]
    x, y, s, d = collate(samples)
    assert type(x) is TImage and x.shape == (4, 2) and x.size == 2
    assert torch.equal(x[:, 0], torch.arange(4.0))
    assert torch.equal(y, torch.arange(4)) and y.dtype == torch.long
    assert s == ["a"] * 4 and d["k"].shape == (4, 3) and d["k"].dtype == torch.float64


def test_collate_numbers_arrays_lists_and_namedtuples():
    assert collate([1.5, 2]).tolist() == [1.5, 2.0]
    assert collate([True, False]).dtype == torch.bool
    assert collate([np.float32(1), np.float32(2)]).dtype == torch.float32
    assert collate([np.arange(3), np.arange(3)]).tolist() == [[0, 1, 2], [0, 1, 2]]
    assert collate([np.arange(4)[::-1], np.arange(4)]).tolist()[0] == [3, 2, 1, 0]  # negative strides
    a, b = collate([[1, 2], [3, 4]])
    assert a.tolist() == [1, 3] and b.tolist() == [2, 4]
    Pair = namedtuple("Pair", "x y")
    out = collate([Pair(1, 2.0), Pair(3, 4.0)])
    assert type(out) is Pair and out.x.tolist() == [1, 3] and out.y.tolist() == [2.0, 4.0]


def test_collate_names_the_problem():
    with pytest.raises(DataError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(DataError, match="sample 1 has 1 elements, sample 0 has 2"):
        collate([(1, 2), (1,)])
    with pytest.raises(DataError, match=r"sample 1 lacks the keys \['b'\]"):
        collate([{"a": 1, "b": 2}, {"a": 3}])
    with pytest.raises(DataError, match="dtype <U1"):
        collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(DataError, match="no samples"):
        collate([])


def test_convert_makes_tensors_without_stacking():
    out = convert((np.arange(3), np.float64(2.5), "label", 7, {"m": [np.ones(2)]}))
    arr, scalar, label, n, d = out
    assert isinstance(arr, torch.Tensor) and arr.tolist() == [0, 1, 2]
    assert isinstance(scalar, torch.Tensor) and scalar.ndim == 0 and scalar.item() == 2.5
    assert label == "label" and n == 7  # strings and Python numbers are left as they are
    assert isinstance(d["m"], list) and torch.equal(d["m"][0], torch.ones(2, dtype=torch.float64))
    t = TImage(torch.zeros(2))
    assert convert(t) is t
