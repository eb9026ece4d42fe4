import copy
import pickle
import random
from collections.abc import MutableSequence

import numpy as np
import pytest
import torch

from layered.core.collection import L, LIndexError
from layered.core.errors import LayeredError
from layered.core.seed import set_seed


class Tagged(L):
    """A subclass whose methods must keep returning its own type."""


# construction ---------------------------------------------------------------------------
def test_construction_from_items_iterables_and_single_values():
    assert L() == [] and L(None) == []
    assert L(1, 2, 3) == [1, 2, 3] and L([1, 2]) == [1, 2] and L((1, 2)) == [1, 2]
    assert L(range(3)) == [0, 1, 2] and L(x * x for x in range(3)) == [0, 1, 4]
    assert L(None, 1) == [None, 1] and L([1], [2]) == [[1], [2]]
    assert L("ab") == ["ab"] and L(b"ab") == [b"ab"] and L(5) == [5]
    assert L({"a": 1}) == [{"a": 1}]
    zero_d = L(torch.tensor(3))
    assert len(zero_d) == 1 and zero_d[0].item() == 3
    assert L(np.float32(2.5)) == [2.5]
    assert L(np.arange(3)) == [0, 1, 2]
    rows = L(torch.arange(6).view(3, 2))
    assert len(rows) == 3 and rows[1].tolist() == [2, 3]


def test_is_a_mutable_sequence_and_compares_like_a_list():
    t = L(1, 2)
    assert isinstance(t, list) and isinstance(t, MutableSequence)
    assert t == [1, 2] and t == L(1, 2) and [1, 2] == t  # noqa: SIM300 - the reflected comparison is under test
    assert t != [2, 1] and t != [1, 2, 3] and (t != [1, 2]) is False
    assert t != (1, 2) and t != "12" and t != 3  # like list, never equal to other types
    t.append(3)
    t.insert(0, 0)
    t.extend([4])
    assert t == [0, 1, 2, 3, 4] and t.pop() == 4 and len(t) == 4
    with pytest.raises(TypeError):
        hash(t)


def test_equality_of_tensor_and_array_items():
    assert L(torch.tensor([1, 2]), 3) == [torch.tensor([1, 2]), 3]
    assert L(torch.tensor([1, 2])) != [torch.tensor([1, 3])]
    assert L(torch.tensor([1, 2])) != [torch.tensor([1, 2, 3])]
    assert L(np.array([1.0, 2.0])) == [1.0, 2.0]
    assert L([np.array([1, 2])]) == [np.array([1, 2])]
    assert L([np.array([1, 2])]) == [torch.tensor([1, 2])]
    assert L(torch.ones(2, requires_grad=True)) != [torch.zeros(2)]


# indexing -------------------------------------------------------------------------------
def test_int_and_slice_indexing():
    t = L(range(10))
    assert t[3] == 3 and t[-1] == 9 and t[np.int64(4)] == 4 and t[torch.tensor(5)] == 5
    assert t[2:5] == [2, 3, 4] and type(t[2:5]) is L and t[::-3] == [9, 6, 3, 0]
    with pytest.raises(IndexError):
        t[10]


def test_list_and_array_indexing():
    t = L("a", "b", "c", "d")
    assert t[[3, 0, 0]] == ["d", "a", "a"] and type(t[[0]]) is L
    assert t[[-1]] == ["d"] and t[[]] == []
    assert t[np.array([0, 2])] == ["a", "c"] and t[torch.tensor([1, 3])] == ["b", "d"]
    assert t[(1, 2)] == ["b", "c"] and t[range(2)] == ["a", "b"]


def test_boolean_mask_indexing():
    t = L(range(5))
    assert t[[True, False, True, False, False]] == [0, 2]
    assert t[np.array([False] * 4 + [True])] == [4]
    assert t[torch.arange(5) > 2] == [3, 4]
    assert t[[np.bool_(True)] * 5] == t


def test_bad_indices_raise_named_errors():
    t = L(range(4))
    with pytest.raises(LIndexError, match="boolean mask of length 3 for an L of length 4"):
        t[[True, False, True]]
    with pytest.raises(LIndexError, match="position 7 is out of range for an L of length 4"):
        t[[0, 7]]
    with pytest.raises(LIndexError, match=r"expected an int, a slice.*found str 'a'"):
        t["a"]
    with pytest.raises(LIndexError, match=r"expected an int, a slice.*found float 1\.5"):
        t[1.5]
    with pytest.raises(LIndexError, match=r"expected integer positions, found float 1\.0"):
        t[[0, 1.0]]
    with pytest.raises(LIndexError, match="expected integer positions, found list"):
        t[np.array([[0, 1]])]
    with pytest.raises(LIndexError) as info:
        t[[9]]
    err = info.value
    assert isinstance(err, IndexError) and isinstance(err, LayeredError)


def test_item_assignment_with_every_kind_of_index():
    t = L(range(6))
    t[0] = "x"
    t[np.int64(1)] = "y"
    t[[2, 3]] = [20, 30]
    t[np.array([4])] = [40]
    t[torch.tensor([False, False, False, False, False, True])] = 50
    assert t == ["x", "y", 20, 30, 40, 50]
    t[[0, 1]] = 0  # a single value fills every position
    t[::2] = 7  # a slice with a single value too
    assert t == [7, 0, 7, 30, 7, 50]
    t[[-1, 0]] = torch.tensor([1, 2])
    assert t[0].item() == 2 and t[-1].item() == 1
    with pytest.raises(LIndexError, match="3 values for 2 positions"):
        t[[0, 1]] = [1, 2, 3]


def test_slice_assignment_and_deletion_follow_list_semantics():
    t = L(range(4))
    t[1:3] = ["a", "b", "c"]
    assert t == [0, "a", "b", "c", 3]
    t[:] = []
    assert t == [] and type(t) is L
    t = L(range(6))
    del t[0]
    del t[[0, -1, 0]]
    assert t == [2, 3, 4]
    del t[[True, False, True]]
    assert t == [3]
    del t[:]
    assert t == []


# operators and repr ---------------------------------------------------------------------
def test_operators_return_l():
    t = L(1, 2)
    assert t + [3] == [1, 2, 3] and type(t + [3]) is L
    assert [0] + t == [0, 1, 2] and type([0] + t) is L
    assert t + 3 == [1, 2, 3] and (0,) + t == [0, 1, 2]
    assert t * 2 == [1, 2, 1, 2] and type(t * 2) is L and type(2 * t) is L
    u = t
    u += "ab"  # strings stay whole, as in the constructor
    assert u is t and t == [1, 2, "ab"]


def test_repr_shows_count_and_truncates_after_ten():
    assert repr(L()) == "(#0) []"
    assert repr(L(1, "a")) == "(#2) [1, 'a']" and str(L(1)) == "(#1) [1]"
    assert repr(L.range(10)) == "(#10) [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    assert repr(L.range(20)) == "(#20) [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...]"


def test_copy_pickle_and_deepcopy_keep_type_and_items():
    t = Tagged([1, [2]])
    for clone in (t.copy(), copy.copy(t), copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert type(clone) is Tagged and clone == [1, [2]] and clone is not t
    deep = copy.deepcopy(t)
    deep[1].append(3)
    assert t[1] == [2]


# functional helpers ---------------------------------------------------------------------
def test_map_filter_argwhere():
    t = L(3, 1, 2)
    assert t.map(lambda x, k, add=0: x * k + add, 10, add=1) == [31, 11, 21]
    assert t.filter(lambda x: x > 1) == [3, 2] and t.filter(lambda x: x > 1, negate=True) == [1]
    assert t.argwhere(lambda x: x < 3) == [1, 2] and t.argwhere(lambda x: x < 3, negate=True) == [0]
    assert L().map(str) == [] and t == [3, 1, 2]  # nothing changes in place


def test_attrgot_and_itemgot():
    assert L(1j, 2j).attrgot("imag") == [1.0, 2.0]
    assert L({"a": 1}, {"b": 2}).attrgot("a", default=0) == [1, 0]
    assert L(1, "x").attrgot("missing") == [None, None]
    assert L((1, (2, 3)), (4, (5, 6))).itemgot(1, 0) == [2, 5]
    assert L({"k": [7]}, {"k": [8]}).itemgot("k", 0) == [7, 8]
    assert L([1], [2]).itemgot() == [[1], [2]]


def test_unique_val2idx_map_dict_enumerate_first():
    assert L(3, 1, 3, 2, 1).unique() == [3, 1, 2]
    assert L("a", "b").val2idx() == {"a": 0, "b": 1}
    assert L(1, 2).map_dict(lambda x, k: x * k, 10) == {1: 10, 2: 20}
    assert L("a").map_dict() == {"a": "a"}
    assert L("a", "b").enumerate() == [(0, "a"), (1, "b")]
    assert L(5, 6).first() == 5 and L().first() is None


class Item:
    def __init__(self, size):
        self.size = size


def test_sorted_by_function_attribute_name_and_index():
    t = L(3, 1, 2)
    assert t.sorted() == [1, 2, 3] and t.sorted(reverse=True) == [3, 2, 1] and t == [3, 1, 2]
    assert L("bb", "a", "ccc").sorted(len) == ["a", "bb", "ccc"]
    assert L(Item(2), Item(1)).sorted("size").attrgot("size") == [1, 2]
    assert L((2, "b"), (1, "z"), (3, "a")).sorted(1) == [(3, "a"), (2, "b"), (1, "z")]


def test_sum_concat_zip():
    assert L(1, 2, 3).sum() == 6 and L().sum() == 0
    assert L([1], [2, 3]).sum() == [1, 2, 3]
    assert L(torch.ones(2), torch.ones(2)).sum().tolist() == [2.0, 2.0]
    assert L([1, 2], [3], 4, "ab").concat() == [1, 2, 3, 4, "ab"]
    assert L([1, 2], [3, 4]).zip() == [(1, 3), (2, 4)]
    assert L([1, 2, 3], [4, 5]).zip() == [(1, 4), (2, 5)]
    assert L([1, 2, 3], [4]).zip(cycled=True) == [(1, 4), (2, 4), (3, 4)]
    assert L([1, 2], []).zip(cycled=True) == [] and L().zip() == []


def test_shuffle_is_a_seeded_permutation_copy():
    t = L.range(50)
    set_seed(0)
    a = t.shuffle()
    set_seed(0)
    assert a == t.shuffle()
    random.seed(1)
    assert a != t.shuffle()
    assert sorted(a) == list(range(50)) and a != t and t == list(range(50))


def test_range_and_split():
    assert L.range(3) == [0, 1, 2] and L.range(1, 7, 2) == [1, 3, 5] and L.range(3, 0, -1) == [3, 2, 1]
    assert type(Tagged.range(2)) is Tagged
    with pytest.raises(ValueError):
        L.range(0, 3, 0)
    assert L.split("a,b,c", ",") == ["a", "b", "c"] and L.split("a b  c") == ["a", "b", "c"]
    assert L.split("a,b,c", ",", maxsplit=1) == ["a", "b,c"]


def test_subclasses_get_their_own_type_back():
    t = Tagged([3, 1, 2])
    results = [
        t[[0, 1]],
        t[1:],
        t + [4],
        t.map(str),
        t.filter(bool),
        t.sorted(),
        t.unique(),
        t.shuffle(),
        t.enumerate(),
        t.argwhere(bool),
        L([t]).map(Tagged).concat(),
    ]
    assert all(type(r) is Tagged for r in results[:-1]) and type(results[-1]) is L
