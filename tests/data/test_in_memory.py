import numpy as np
import pandas as pd
import pytest
import torch

from layered.core.seed import set_seed
from layered.core.tensor_types import TensorBase
from layered.data.errors import DataError
from layered.data.in_memory import as_arrays, item_of, slice_arrays
from layered.data.loader import DataLoader


class TCont(TensorBase):
    pass


def per_item(dataset, **kwargs):
    """The same data through the per-item path: replacing a per-item stage turns the fast path off."""
    return DataLoader(dataset, after_item=lambda o: o, **kwargs)


def assert_same_batches(a, b):
    assert len(a) == len(b) and len(a) > 0
    for ba, bb in zip(a, b):
        ba, bb = (ba, bb) if isinstance(ba, tuple) else ((ba,), (bb,))
        assert len(ba) == len(bb)
        for ta, tb in zip(ba, bb):
            assert type(ta) is type(tb) and ta.dtype == tb.dtype and torch.equal(ta, tb)


def test_as_arrays_recognises_columns():
    x = torch.randn(5, 2)
    assert as_arrays(x)[0] is x
    (a,) = as_arrays(np.arange(5))
    assert a.tolist() == [0, 1, 2, 3, 4]
    (df,) = as_arrays(pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}))
    assert df.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    (s,) = as_arrays(pd.Series([True, False]))
    assert s.dtype == torch.bool
    cols = as_arrays((x, np.arange(5), pd.Series(range(5))))
    assert len(cols) == 3 and all(len(c) == 5 for c in cols)
    assert as_arrays([x, x]) is None and len(as_arrays([x, x], lists=True)) == 2
    assert as_arrays(list(range(5))) is None and as_arrays(torch.tensor(3.0)) is None
    assert as_arrays(np.array(["a", "b"])) is None and as_arrays(("ab", "cd")) is None


def test_as_arrays_names_bad_columns():
    with pytest.raises(DataError, match=r"non-numeric columns \['name'\]"):
        as_arrays(pd.DataFrame({"name": ["a", "b"], "v": [1, 2]}))
    with pytest.raises(DataError, match=r"one length, found lengths \[5, 4\]"):
        as_arrays((torch.zeros(5), torch.zeros(4)))


def test_item_of_and_slice_arrays():
    x, y = torch.arange(12).reshape(6, 2), torch.arange(6) * 10
    xi, yi = item_of((x, y), 2)
    assert xi.tolist() == [4, 5] and yi.item() == 20
    assert item_of((y,), 3).item() == 30
    bx, by = slice_arrays((x, y), [5, 0])
    assert bx.tolist() == [[10, 11], [0, 1]] and by.tolist() == [50, 0]
    assert slice_arrays((y,), torch.tensor([1, 2])).tolist() == [10, 20]
    bx, by = slice_arrays((x, y), slice(1, 3))
    assert bx.tolist() == [[2, 3], [4, 5]] and by.tolist() == [10, 20]
    bx.zero_()  # a batch is a copy, even of consecutive rows: changing it leaves the data intact
    assert x[1].tolist() == [2, 3]


@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_fast_path_copies_consecutive_rows(drop_last):
    x, y = TCont(torch.arange(22.0).reshape(11, 2)), torch.arange(11)
    batches = list(DataLoader((x, y), bs=4, drop_last=drop_last))
    assert_same_batches(batches, list(per_item((x, y), bs=4, drop_last=drop_last)))
    assert [len(b[1]) for b in batches] == ([4, 4] if drop_last else [4, 4, 3])
    batches[0][0].mul_(0)
    assert x[0].tolist() == [0.0, 1.0] and x[1].tolist() == [2.0, 3.0]


def test_shuffled_order_reads_as_python_ints():
    dl = DataLoader(torch.zeros(10, 1), bs=4, shuffle=True)
    idxs = dl.get_idxs()
    assert len(idxs) == 10 and sorted(idxs) == list(range(10)) and all(type(i) is int for i in idxs)
    assert type(idxs[3]) is int and idxs[3] == list(idxs)[3] and idxs[::-1] == list(idxs)[::-1]


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.randn(37, 3),
        lambda: np.random.rand(37, 3).astype(np.float32),
        lambda: (TCont(torch.randn(37, 3)), torch.arange(37)),
        lambda: pd.DataFrame({"a": np.arange(37.0), "b": np.arange(37) % 4}),
        lambda: (np.arange(37), pd.Series(np.arange(37.0))),
    ],
    ids=["tensor", "ndarray", "tuple", "dataframe", "mixed-tuple"],
)
def test_fast_path_is_chosen_and_equals_the_per_item_path(make):
    data = make()
    fast, slow = DataLoader(data, bs=8, shuffle=True), per_item(data, bs=8, shuffle=True)
    assert fast.fast_path and not slow.fast_path
    set_seed(3)
    a = list(fast)
    set_seed(3)
    b = list(slow)
    assert_same_batches(a, b)
    assert len(a) == 5
    set_seed(3)
    dropped = list(fast.new(drop_last=True))
    assert len(dropped) == 4 and [len(o[0] if isinstance(o, tuple) else o) for o in dropped] == [8] * 4


def test_fast_path_keeps_semantic_types_runs_after_batch_and_device():
    x = TCont(torch.arange(10.0)[:, None], unit="m")
    dl = DataLoader((x, torch.arange(10)), bs=4, after_batch=lambda b: (b[0] * 2, b[1]), device="cpu")
    assert dl.fast_path
    bx, by = dl.one_batch()
    assert type(bx) is TCont and bx.unit == "m" and bx[:, 0].tolist() == [0.0, 2.0, 4.0, 6.0]
    assert by.tolist() == [0, 1, 2, 3]


def test_flags_and_replaced_stages_choose_the_path():
    x, y = torch.randn(6, 2), torch.arange(6)
    assert not DataLoader((x, y), in_memory=False).fast_path
    assert DataLoader((x, y), in_memory=False).n == 2  # then a tuple is just two items
    listed = DataLoader([x, y], bs=4, in_memory=True)
    assert listed.fast_path and listed.one_batch()[1].tolist() == [0, 1, 2, 3]
    with pytest.raises(DataError, match="in_memory=True, but the dataset"):
        DataLoader(list(range(4)), in_memory=True)
    assert not DataLoader(x, bs=None).fast_path  # no batching: nothing to slice
    for stage in ("create_item", "chunkify", "before_batch", "create_batch", "retain", "do_batch"):
        assert not DataLoader(x, **{stage: lambda *args: args[0]}).fast_path, stage
    custom = DataLoader(x, bs=2, create_batch=lambda items: torch.stack(items).sum(1))
    assert not custom.fast_path and torch.allclose(custom.one_batch(), x[:2].sum(1))
    assert DataLoader((x, y), after_batch=lambda b: b, get_idxs=lambda: [0, 1]).fast_path


def test_fast_path_with_two_workers_gives_the_same_order():
    x, y = torch.randn(45, 2), torch.arange(45)
    set_seed(0)
    single = list(DataLoader((x, y), bs=4, shuffle=True))
    set_seed(0)
    assert_same_batches(list(DataLoader((x, y), bs=4, shuffle=True, num_workers=2)), single)


def test_new_with_another_dataset_redetects_the_path():
    dl = DataLoader(torch.zeros(8, 2), bs=4)
    other = dl.new(list(range(3)))
    assert not other.fast_path and other.n == 3 and other.one_batch().tolist() == [0, 1, 2]
    back = other.new(np.ones((5, 1)))
    assert back.fast_path and back.n == 5 and len(back) == 2


def test_batches_are_placed_unless_sliced_where_they_belong(monkeypatch):
    import layered.data.loader as loader_module

    x = torch.arange(8.0)[:, None]
    assert DataLoader(x, bs=4, device="meta").one_batch().device.type == "meta"  # columns elsewhere: moved
    seen = []
    DataLoader(x, bs=4, device="meta", after_batch=lambda b: seen.append(b.device.type) or b).one_batch()
    assert seen == ["meta"]  # a replaced after_batch runs on the batch already placed
    calls = []
    list(DataLoader(x, bs=4, to_device=lambda b: calls.append(len(b)) or b))
    assert calls == [4, 4]  # a replaced to_device always runs

    def no_walk(*args, **kwargs):
        raise AssertionError("batches sliced from columns already on the device need no walk")

    monkeypatch.setattr(loader_module, "to_device", no_walk)
    assert [b.tolist() for b in DataLoader(x, bs=4, device="cpu")][1] == [[4.0], [5.0], [6.0], [7.0]]
