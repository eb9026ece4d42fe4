import numpy as np
import pytest
import torch

from layered.core.collection import L


def test_construction():
    assert L() == [] and L(None) == []
    assert L(1, 2, 3) == [1, 2, 3] and L([1, 2]) == [1, 2] and L(range(3)) == [0, 1, 2]
    assert L("ab") == ["ab"] and L(5) == [5]
    assert len(L(torch.tensor(3))) == 1
    assert L(np.arange(3)) == [0, 1, 2]


def test_numpy_like_indexing_and_assignment():
    t = L(range(10))
    assert t[3] == 3 and t[-1] == 9
    assert t[2:5] == [2, 3, 4] and isinstance(t[2:5], L)
    assert t[[1, 3, 5]] == [1, 3, 5]
    assert t[np.array([0, 9])] == [0, 9] and t[torch.tensor([2, 4])] == [2, 4]
    assert t[[i % 2 == 0 for i in range(10)]] == [0, 2, 4, 6, 8]
    assert t[torch.arange(10) > 7] == [8, 9]
    with pytest.raises(IndexError, match="mask of length 3"):
        t[[True, False, True]]
    t[[0, 1]] = [10, 11]
    t[[2, 3]] = 0
    assert t[:4] == [10, 11, 0, 0]


def test_functional_helpers():
    t = L(3, 1, 2)
    assert t.map(lambda x, k: x * k, 10) == [30, 10, 20]
    assert t.filter(lambda x: x > 1) == [3, 2] and t.filter(lambda x: x > 1, negate=True) == [1]
    assert t.argwhere(lambda x: x < 3) == [1, 2]
    assert t.sorted() == [1, 2, 3] and t.sorted(reverse=True) == [3, 2, 1]
    assert L("bb", "a", "ccc").sorted(len) == ["a", "bb", "ccc"]
    assert L((2, "b"), (1, "a")).sorted(0) == [(1, "a"), (2, "b")]
    assert L(1, 1, 3, 1).unique() == [1, 3]
    assert t.sum() == 6 and L().sum() == 0
    assert L([1, 2], [3], 4).concat() == [1, 2, 3, 4]
    assert L([1, 2], [3, 4]).zip() == [(1, 3), (2, 4)]
    assert L([1, 2, 3], [4]).zip(cycled=True) == [(1, 4), (2, 4), (3, 4)]
    assert L({"a": 1}, {"a": 2}).attrgot("a") == [1, 2]
    assert L(1j, 2j).attrgot("imag") == [1.0, 2.0]
    assert L((1, (2, 3)), (4, (5, 6))).itemgot(1, 0) == [2, 5]
    assert L.range(3) == [0, 1, 2] and L.range(1, 7, 2) == [1, 3, 5]
    assert L("a", "b").val2idx() == {"a": 0, "b": 1}


def test_shuffle_is_a_permutation_and_seeded():
    import random

    random.seed(0)
    a = L.range(50).shuffle()
    random.seed(0)
    assert a == L.range(50).shuffle()
    assert sorted(a) == list(range(50)) and a != L.range(50)


def test_repr_shows_count_and_truncates():
    assert repr(L(1, 2)) == "(#2) [1, 2]"
    long = repr(L.range(20))
    assert long.startswith("(#20) [0, 1,") and long.endswith("9, ...]")
