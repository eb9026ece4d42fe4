import pytest
import torch

from layered.core.seed import set_seed
from layered.data.errors import DataError
from layered.data.loader import DataLoader


class Items:
    """A per-item dataset (no fast path): item i is (x_i, y_i)."""

    def __init__(self, n=10):
        self.x, self.y = torch.arange(n).float()[:, None], torch.arange(n)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def ys(dl):
    return [b[1].tolist() for b in dl]


def test_batches_len_drop_last_and_n():
    dl = DataLoader(Items(10), bs=4)
    assert len(dl) == 3 and ys(dl) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dl = DataLoader(Items(10), bs=4, drop_last=True)
    assert len(dl) == 2 and ys(dl) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    dl = DataLoader(Items(10), bs=4, n=6)
    assert ys(dl) == [[0, 1, 2, 3], [4, 5]]
    with pytest.raises(DataError, match="bs must be a positive"):
        DataLoader(Items(), bs=0)


def test_shuffle_is_a_permutation_reproducible_under_set_seed():
    dl = DataLoader(Items(50), bs=8, shuffle=True)
    set_seed(1)
    a = [i for b in ys(dl) for i in b]
    set_seed(1)
    b = [i for b in ys(dl) for i in b]
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    assert [i for b in ys(dl) for i in b] != a  # a new order each epoch


def test_every_stage_is_replaceable_by_keyword():
    dl = DataLoader(
        list(range(10)),
        bs=3,
        get_idxs=lambda: [9, 8, 7, 6],
        create_item=lambda i: i * 10,
        after_item=lambda o: o + 1,
        before_batch=lambda items: sorted(items),
        after_batch=lambda b: b * 2,
    )
    assert [b.tolist() for b in dl] == [[142, 162, 182], [122]]


def test_stages_are_replaceable_by_subclassing():
    class Reverse(DataLoader):
        def get_idxs(self):
            return list(reversed(range(self.n)))

        def create_batch(self, items):
            return tuple(items)

    assert list(Reverse(list("abcd"), bs=2)) == [("d", "c"), ("b", "a")]


def test_fast_path_is_chosen_automatically_and_matches_the_per_item_path():
    x, y = torch.randn(37, 3), torch.arange(37)
    fast = DataLoader((x, y), bs=8, shuffle=True)
    slow = DataLoader(Items(37), bs=8, shuffle=True)
    slow.dataset.x, slow.dataset.y = x, y
    assert fast.fast_path and not slow.fast_path
    set_seed(3)
    a = list(fast)
    set_seed(3)
    b = list(slow)
    assert len(a) == len(b) == 5
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    replaced = DataLoader((x, y), bs=8, after_item=lambda o: o)
    assert not replaced.fast_path  # a replaced per-item stage turns the fast path off


def test_dataframes_and_arrays_take_the_fast_path():
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) * 2})
    dl = DataLoader(df, bs=4)
    assert dl.fast_path and next(iter(dl)).shape == (4, 2)
    assert DataLoader(np.zeros((5, 2)), bs=2).fast_path


def test_two_workers_give_the_same_batches_in_the_same_order():
    single = ys(DataLoader(Items(23), bs=4))
    assert ys(DataLoader(Items(23), bs=4, num_workers=2)) == single


def test_one_batch_new_and_device():
    dl = DataLoader(Items(10), bs=4, shuffle=True)
    b = dl.one_batch()
    assert b[0].shape == (4, 1)
    dl2 = dl.new(bs=5, shuffle=False, after_batch=lambda b: (b[0], b[1] + 100))
    assert ys(dl2) == [[100, 101, 102, 103, 104], [105, 106, 107, 108, 109]]
    assert dl.bs == 4  # the original is unchanged
    assert dl.new(list(range(3)), bs=2).n == 3
    assert DataLoader(Items(4), bs=2, device="cpu").one_batch()[0].device.type == "cpu"
    with pytest.raises(TypeError, match="unknown setting"):
        dl.new(nonsense=1)
    assert DataLoader(Items(4), bs=2, pin_memory=True).one_batch()[1].tolist() == [0, 1]


def test_iterables_without_length():
    dl = DataLoader(iter(range(5)), bs=2)
    assert [b.tolist() for b in dl] == [[0, 1], [2, 3], [4]]
    with pytest.raises(DataError, match="num_workers=0"):
        DataLoader(iter(range(5)), bs=2, num_workers=2)
