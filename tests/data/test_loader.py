import os
import random
import warnings

import numpy as np
import pytest
import torch

from layered.core.seed import set_seed
from layered.core.tensor_types import TensorBase
from layered.data.errors import DataError
from layered.data.loader import DataLoader


class Items:
    """A per-item dataset (no fast path): item i is (x_i, y_i)."""

    def __init__(self, n=10, split_idx=None):
        self.x, self.y = torch.arange(n).float()[:, None], torch.arange(n)
        self.split_idx = split_idx

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


class TImage(TensorBase):
    pass


def ys(dl):
    return [b[1].tolist() for b in dl]


def values(dl):
    return [b.tolist() for b in dl]


def flat(batches):
    return [i for b in batches for i in b]


def test_batches_len_drop_last_and_n():
    dl = DataLoader(Items(10), bs=4)
    assert len(dl) == 3 and ys(dl) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dl = DataLoader(Items(10), bs=4, drop_last=True)
    assert len(dl) == 2 and ys(dl) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    dl = DataLoader(Items(10), bs=4, n=6)
    assert len(dl) == 2 and ys(dl) == [[0, 1, 2, 3], [4, 5]]
    dl = DataLoader(Items(3), bs=None)
    assert len(dl) == 3 and [b[1].item() for b in dl] == [0, 1, 2]  # bs=None: items as they are
    assert DataLoader([np.zeros(2)], bs=None).one_batch().dtype == torch.float64  # arrays become tensors


def test_bad_arguments_are_named():
    with pytest.raises(DataError, match="bs must be a positive integer or None, got 0"):
        DataLoader(Items(), bs=0)
    with pytest.raises(DataError, match="num_workers must be an integer >= 0, got -1"):
        DataLoader(Items(), num_workers=-1)
    with pytest.raises(TypeError, match=r"unexpected arguments \['batch_size'\]"):
        DataLoader(Items(), batch_size=4)
    with pytest.raises(TypeError, match=r"after_item=.*callable"):
        DataLoader(Items(), after_item=3)


def test_shuffle_is_a_permutation_reproducible_under_set_seed():
    dl = DataLoader(Items(50), bs=8, shuffle=True)
    set_seed(1)
    a = flat(ys(dl))
    set_seed(1)
    b = flat(ys(dl))
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    assert flat(ys(dl)) != a  # a new order each epoch
    set_seed(2)
    assert flat(ys(dl)) != a  # and another seed gives another order


# Each stage, a replacement, and the batches DataLoader(list(range(6)), bs=2) then gives.
STAGES = {
    "get_idxs": (lambda: [5, 4, 3, 2, 1, 0], [[5, 4], [3, 2], [1, 0]]),
    "shuffle_fn": (lambda idxs: idxs[::-1], [[5, 4], [3, 2], [1, 0]]),
    "sample": (lambda worker=0, n_workers=1: [0, 2, 4], [[0, 2], [4]]),
    "create_item": (lambda i: i * 10, [[0, 10], [20, 30], [40, 50]]),
    "after_item": (lambda o: o + 1, [[1, 2], [3, 4], [5, 6]]),
    "do_item": (lambda i: -i, [[0, -1], [-2, -3], [-4, -5]]),
    "chunkify": (lambda items: [list(items)[:3]], [[0, 1, 2]]),
    "before_batch": (lambda items: items[::-1], [[1, 0], [3, 2], [5, 4]]),
    "create_batch": (lambda items: torch.tensor(items).sum(), [1, 5, 9]),
    "retain": (lambda b, items: b * 0, [[0, 0], [0, 0], [0, 0]]),
    "after_batch": (lambda b: b * 2, [[0, 2], [4, 6], [8, 10]]),
    "do_batch": (lambda items: torch.tensor(len(items)), [2, 2, 2]),
    "create_batches": (lambda samples: iter([torch.tensor(list(samples))]), [[0, 1, 2, 3, 4, 5]]),
    "to_device": (lambda b: b + 100, [[100, 101], [102, 103], [104, 105]]),
}


def _subclass_with(stage, f):
    return type("Custom", (DataLoader,), {stage: lambda self, *args: f(*args)})


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_stage_is_replaceable_by_keyword_and_by_subclass(stage):
    f, expected = STAGES[stage]
    shuffle = stage == "shuffle_fn"
    assert values(DataLoader(list(range(6)), bs=2, shuffle=shuffle, **{stage: f})) == expected
    assert values(_subclass_with(stage, f)(list(range(6)), bs=2, shuffle=shuffle)) == expected
    assert values(DataLoader(list(range(6)), bs=2)) == [[0, 1], [2, 3], [4, 5]]  # others keep theirs


@pytest.mark.parametrize("how", ["keyword", "subclass"])
def test_epoch_hooks_run_in_order(how):
    calls = []
    hooks = {
        name: (lambda name=name: calls.append(name)) for name in ("randomize", "before_iter", "after_iter")
    }
    if how == "keyword":
        dl = DataLoader(list(range(4)), bs=2, **hooks)
    else:
        dl = type("Hooked", (DataLoader,), {k: (lambda self, f=f: f()) for k, f in hooks.items()})(
            list(range(4)), bs=2
        )
    assert values(dl) == [[0, 1], [2, 3]]
    assert calls == ["randomize", "before_iter", "after_iter"]


def test_randomize_gives_the_epoch_generator_that_shuffles():
    dl = DataLoader(list(range(20)), bs=20, shuffle=True)
    dl.randomize = lambda: setattr(dl, "rng", random.Random(7))
    assert values(dl) == values(dl)  # the same generator each epoch: the same order


def test_items_keep_semantic_types_and_retain_restores_them():
    items = [(TImage(torch.full((2,), float(i)), tag="t"), i) for i in range(4)]
    x, y = DataLoader(items, bs=4).one_batch()
    assert type(x) is TImage and x.tag == "t" and x.shape == (4, 2) and y.tolist() == [0, 1, 2, 3]
    plain = DataLoader(
        items, bs=4, create_batch=lambda its: (torch.stack([o[0].as_subclass(torch.Tensor) for o in its]), 0)
    )
    assert type(plain.one_batch()[0]) is TImage  # `retain` gives the item's type back


def test_two_workers_give_the_same_batches_in_the_same_order():
    set_seed(4)
    single = [ys(DataLoader(Items(23), bs=4, shuffle=True)) for _ in range(2)]
    set_seed(4)
    workers = DataLoader(Items(23), bs=4, shuffle=True, num_workers=2)
    assert [ys(workers) for _ in range(2)] == single
    assert all(len(b) == 4 for b in single[0][:-1]) and single[0][-1].__len__() == 3
    dl = DataLoader(Items(23), bs=4, num_workers=2, drop_last=True, after_item=lambda o: (o[0] * 2, o[1]))
    batches = list(dl)
    assert all(type(b) is tuple for b in batches)  # torch's loader hands the batches over as they are
    assert [b[1].tolist() for b in batches] == [list(range(k, k + 4)) for k in range(0, 20, 4)]
    assert torch.equal(batches[1][0][:, 0], torch.arange(4.0, 8.0) * 2)


def test_persistent_workers_get_each_epochs_shuffle():
    set_seed(9)
    single = DataLoader(Items(18), bs=4, shuffle=True)
    expected = [ys(single) for _ in range(3)]
    set_seed(9)
    dl = DataLoader(Items(18), bs=4, shuffle=True, num_workers=2, persistent_workers=True)
    got = [ys(dl) for _ in range(3)]
    assert got == expected and got[0] != got[1]
    other = dl.new(bs=6, shuffle=False)  # a copy starts its own workers, with its own settings
    assert other._persistent is None and ys(other) == [
        [0, 1, 2, 3, 4, 5],
        [6, 7, 8, 9, 10, 11],
        [12, 13, 14, 15, 16, 17],
    ]


class Niceness:
    """Each item is the niceness of the process that reads it."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return os.nice(0)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="the OS has no nice")
@pytest.mark.parametrize("persistent", [False, True])
def test_workers_give_way_to_the_main_process(persistent):
    main = os.nice(0)
    lowered = DataLoader(Niceness(), bs=2, num_workers=2, persistent_workers=persistent)
    assert torch.cat(list(lowered)).tolist() == [min(main + 10, 19)] * 4
    level = DataLoader(Niceness(), bs=2, num_workers=1, worker_nice=0, persistent_workers=persistent)
    assert torch.cat(list(level)).tolist() == [main] * 4
    assert os.nice(0) == main  # the main process keeps its own
    for bad in (-1, 20, 2.5, True):
        with pytest.raises(DataError, match=f"worker_nice must be an integer from 0 to 19, got {bad}"):
            DataLoader(Niceness(), num_workers=1, worker_nice=bad)


def test_one_batch_new_and_device():
    dl = DataLoader(Items(10), bs=4, shuffle=True, after_item=lambda o: (o[0], o[1] * 10))
    b = dl.one_batch()
    assert b[0].shape == (4, 1) and all(v % 10 == 0 for v in b[1].tolist())
    dl2 = dl.new(bs=5, shuffle=False, after_batch=lambda b: (b[0], b[1] + 1))
    assert ys(dl2) == [[1, 11, 21, 31, 41], [51, 61, 71, 81, 91]]  # replaced stages are kept
    assert dl.bs == 4 and dl.shuffle and "after_batch" not in vars(dl)  # the original is unchanged
    dl3 = dl.new(Items(3), bs=2, shuffle=False)
    assert dl3.n == 3 and ys(dl3) == [[0, 10], [20]]
    assert dl.new(n=4, shuffle=False).n == 4 and len(dl.new(n=4)) == 1
    with pytest.raises(TypeError, match="unknown setting 'nonsense'"):
        dl.new(nonsense=1)
    with pytest.raises(DataError, match="bs must be a positive"):
        dl.new(bs=-1)
    with pytest.raises(DataError, match="makes no batch"):
        DataLoader(Items(3), bs=4, drop_last=True).one_batch()


def test_device_to_and_split_idx():
    dl = DataLoader(Items(4, split_idx=1), bs=2)
    assert dl.device is None and dl.split_idx == 1
    assert dl.to("cpu") is dl and dl.device == torch.device("cpu")
    assert dl.one_batch()[0].device.type == "cpu"
    assert DataLoader(Items(4), device="cpu").new(device=None).device is None
    assert DataLoader(list(range(3))).split_idx is None


def test_pin_memory_is_harmless_without_an_accelerator():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dl = DataLoader(Items(6), bs=4, pin_memory=True)
        assert ys(dl) == [[0, 1, 2, 3], [4, 5]]
        assert ys(dl.new(num_workers=1)) == [[0, 1, 2, 3], [4, 5]]


def test_datasets_without_length_or_without_a_dataset():
    dl = DataLoader(iter(range(5)), bs=2)
    assert values(dl) == [[0, 1], [2, 3], [4]] and dl.n is None
    with pytest.raises(TypeError, match="unknown length"):
        len(dl)
    assert values(DataLoader(iter(range(50)), bs=2, n=3)) == [[0, 1], [2]]
    assert values(DataLoader(list(range(5)), bs=2, indexed=False, after_item=lambda o: -o)) == [
        [0, -1],
        [-2, -3],
        [-4],
    ]
    with pytest.raises(DataError, match="needs num_workers=0 and shuffle=False"):
        DataLoader(iter(range(5)), bs=2, num_workers=2)
    with pytest.raises(DataError, match="needs num_workers=0 and shuffle=False"):
        DataLoader(iter(range(5)), shuffle=True)
    assert values(DataLoader(n=5, bs=2, create_item=lambda i: i * i)) == [[0, 1], [4, 9], [16]]
    with pytest.raises(DataError, match="give n"):
        DataLoader()


_SEEN_BY_AFTER_BATCH: list = []


def _record_after_batch(b):
    """An after_batch that notes where it ran (process) and where the batch was (device)."""
    import os

    _SEEN_BY_AFTER_BATCH.append((os.getpid(), b[0].device.type, b[1].device.type))
    return b


def _record_to_device(b):
    """A stand-in device hook: marks the batch moved, so after_batch can tell it ran after placement."""
    return tuple(t.to("meta") for t in b)


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("in_memory", [True, False])
def test_after_batch_runs_in_the_main_process_on_placed_batches(num_workers, in_memory):
    import os

    _SEEN_BY_AFTER_BATCH.clear()
    ds = (torch.arange(8.0)[:, None], torch.arange(8)) if in_memory else Items(8)
    dl = DataLoader(ds, bs=4, num_workers=num_workers, device="meta", after_batch=_record_after_batch)
    assert dl.fast_path is in_memory
    batches = list(dl)
    assert len(batches) == 2 and all(b[0].device.type == "meta" for b in batches)
    assert [(os.getpid(), "meta", "meta")] * 2 == _SEEN_BY_AFTER_BATCH


@pytest.mark.parametrize("num_workers", [0, 2])
def test_after_batch_follows_a_replaced_to_device(num_workers):
    import os

    _SEEN_BY_AFTER_BATCH.clear()
    dl = DataLoader(
        Items(8), bs=4, num_workers=num_workers, to_device=_record_to_device, after_batch=_record_after_batch
    )
    list(dl)
    assert [(os.getpid(), "meta", "meta")] * 2 == _SEEN_BY_AFTER_BATCH


class RaggedItems(Items):
    """Item 6 has a shape of its own, so the batch holding it cannot be stacked."""

    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return (x.repeat(2) if i == 6 else x), y


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_batch_that_cannot_be_collated_names_its_items(num_workers):
    dl = DataLoader(RaggedItems(10), bs=4, num_workers=num_workers)
    with pytest.raises(DataError, match="different shapes") as info:
        list(dl)
    notes = [n for n in getattr(info.value, "__notes__", []) if n.startswith("layered: batch of items")]
    assert notes == ["layered: batch of items [4, 5, 6, 7] failed in DataLoader.do_batch"]


def test_a_replaced_chunkify_leaves_the_batch_unnamed_rather_than_misnamed():
    class Reversed(DataLoader):
        def chunkify(self, items):
            return super().chunkify(list(items)[::-1])

    with pytest.raises(DataError) as info:
        list(Reversed(RaggedItems(10), bs=4))
    assert "layered: batch of items (indices not tracked) failed in Reversed.do_batch" in info.value.__notes__


def _pid_and_double(b):
    """An after_batch that doubles the inputs and adds the id of the process it ran in."""
    import os

    x, y = b
    return x * 2, y, torch.full((len(x),), os.getpid())


@pytest.mark.parametrize("device", [None, "cpu"])
def test_after_batch_in_workers_on_the_cpu(device):
    import os

    ds = (torch.arange(10.0)[:, None], torch.arange(10))
    dl = DataLoader(
        ds, bs=4, num_workers=2, device=device, after_batch=_pid_and_double, after_batch_in_workers=True
    )
    batches = list(dl)
    # the same batches in the same order as in the main process, each made by a worker
    assert [b[0][:, 0].tolist() for b in batches] == [[0, 2, 4, 6], [8, 10, 12, 14], [16, 18]]
    pids = [int(b[2][0]) for b in batches]
    assert os.getpid() not in pids and pids[0] != pids[1] and pids[0] == pids[2]
    # without workers, or with the setting off, after_batch runs here
    assert int(dl.new(num_workers=0).one_batch()[2][0]) == os.getpid()
    assert {int(b[2][0]) for b in dl.new(after_batch_in_workers=False)} == {os.getpid()}


def test_after_batch_in_workers_keeps_batch_transforms_on_an_accelerator():
    import os

    _SEEN_BY_AFTER_BATCH.clear()
    dl = DataLoader(Items(8), bs=4, num_workers=2, device="meta", after_batch=_record_after_batch)
    dl = dl.new(after_batch_in_workers=True)
    assert all(b[0].device.type == "meta" for b in dl)
    assert [(os.getpid(), "meta", "meta")] * 2 == _SEEN_BY_AFTER_BATCH


def _threads_seen(b):
    """An after_batch that records how many torch threads it was given."""
    _SEEN_BY_AFTER_BATCH.append(torch.get_num_threads())
    return b


@pytest.mark.parametrize(
    ("num_workers", "device", "threads"),
    [
        (0, "cpu", [4] * 4),
        (1, "cpu", [3, 3, 3, 4]),
        (2, None, [2, 2, 3, 4]),
        (2, "meta", [4] * 4),
    ],
)
def test_cpu_batch_transforms_leave_the_workers_their_cores(num_workers, device, threads):
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        _SEEN_BY_AFTER_BATCH.clear()
        dl = DataLoader(Items(16), bs=4, num_workers=num_workers, device=device, after_batch=_threads_seen)
        assert len(list(dl)) == 4
        # beside busy workers on the CPU, the threads they leave, more as they finish the epoch's
        # last batches; on an accelerator or alone, all of them
        assert threads == _SEEN_BY_AFTER_BATCH
        assert torch.get_num_threads() == 4  # given back after each batch
    finally:
        torch.set_num_threads(before)
