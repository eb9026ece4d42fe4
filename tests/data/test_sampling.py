"""WeightedDL and PartialDL: frequencies follow the weights, partial epochs are short and varied, seeds repeat them."""

import numpy as np
import pytest
import torch

from layered.core.seed import set_seed
from layered.data.dataloaders import DataLoaders
from layered.data.datasets import Datasets
from layered.data.errors import DataError
from layered.data.sampling import PartialDL, WeightedDL, check_weights
from layered.data.tfmd_loader import TfmdDL

N = 400


def columns():
    x = torch.arange(N).float()[:, None]
    return (x, torch.arange(N) % 4)


def drawn(dl, epochs: int) -> np.ndarray:
    return np.concatenate([b[0][:, 0].long().numpy() for _ in range(epochs) for b in dl])


def test_weighted_frequencies_match_the_weights_on_the_fast_path():
    wgts = np.where(np.arange(N) < N // 2, 3.0, 1.0)  # the first half drawn three times as often
    wgts[7] = 0.0
    dl = WeightedDL(columns(), wgts=wgts, bs=50, shuffle=True)
    assert dl.fast_path and len(dl) == N // 50
    set_seed(0)
    idxs = drawn(dl, 10)
    assert len(idxs) == 10 * N
    assert abs((idxs < N // 2).mean() - 0.75) < 0.02  # expected 0.75; sd 0.002 at 4,000 draws
    assert 7 not in idxs  # zero weight: never drawn
    assert len(np.unique(idxs)) < N  # with replacement: some items repeat, others are missing


def test_weighted_item_by_item_with_workers_equals_the_fast_path():
    wgts = np.linspace(0.1, 2.0, N)
    set_seed(3)
    fast = drawn(WeightedDL(columns(), wgts=wgts, bs=32, shuffle=True), 2)
    rows = list(zip(*columns()))  # a list of (x, y) items: built item by item, in the workers
    slow_dl = WeightedDL(rows, wgts=wgts, bs=32, shuffle=True, num_workers=2)
    assert not slow_dl.fast_path
    set_seed(3)
    slow = drawn(slow_dl, 2)
    np.testing.assert_array_equal(fast, slow)
    counts = np.bincount(fast, minlength=N)
    assert counts[N // 2 :].sum() > 2 * counts[: N // 4].sum()  # heavier items come up more


def test_partial_epochs_have_partial_n_distinct_items_that_change_and_repeat_with_the_seed():
    dl = PartialDL(columns(), partial_n=100, bs=32, shuffle=True, num_workers=2, persistent_workers=True)
    assert len(dl) == 4  # 100 items in batches of 32, the last one short
    set_seed(1)
    epochs = [drawn(dl, 1) for _ in range(3)]
    for e in epochs:
        assert len(e) == 100 and len(np.unique(e)) == 100
    assert set(epochs[0]) != set(epochs[1]) and len(set(np.concatenate(epochs))) > 150
    set_seed(1)
    np.testing.assert_array_equal(drawn(dl, 1), epochs[0])
    ordered = dl.new(shuffle=False)
    assert len(ordered) == N // 32 + 1 and drawn(ordered, 1).tolist() == list(range(N))


def test_datasets_sampling_dataloaders_sample_only_the_training_loader():
    items = list(range(50))
    dsets = Datasets(items, [[float], [lambda i: i % 2]], splits=[items[:40], items[40:]])
    wgts = [1.0 if i % 2 else 0.0 for i in range(40)]  # only odd items
    dls = dsets.weighted_dataloaders(wgts, bs=8)
    assert type(dls.train) is WeightedDL and type(dls.valid) is TfmdDL
    set_seed(0)
    for x, y in dls.train:
        assert y.tolist() == [1] * 8 and all(int(v) % 2 for v in x)
    assert [int(v) for b in dls.valid for v in b[0]] == items[40:]
    partial = dsets.partial_dataloaders(16, bs=8)
    assert type(partial.train) is PartialDL and len(partial.train) == 2


@pytest.mark.parametrize(
    "wgts, message",
    [
        ([1.0] * 9, r"shape \(9,\); expected one weight per item, \(10,\)"),
        ([1.0] * 4 + [-0.5] + [1.0] * 5, r"wgts\[4\] is -0.5; weights must be >= 0"),
        ([0.0] * 10, "every weight is zero"),
        ([1.0] * 6 + [float("nan")] + [1.0] * 3, r"wgts\[6\] is nan; weights must be finite"),
        (["a"] * 10, "wgts must be numbers"),
    ],
)
def test_bad_weights_are_named(wgts, message):
    with pytest.raises(DataError, match=message):
        WeightedDL(torch.zeros(10, 1), wgts=wgts, shuffle=True)


def test_bad_sampling_settings_are_named():
    with pytest.raises(DataError, match="give wgts"):
        WeightedDL(torch.zeros(10, 1))
    with pytest.raises(DataError, match="partial_n is 11, more than the dataset's 10 items"):
        PartialDL(torch.zeros(10, 1), partial_n=11, shuffle=True)
    with pytest.raises(DataError, match="partial_n must be a positive integer"):
        PartialDL(torch.zeros(10, 1), partial_n=0.5, shuffle=True)
    with pytest.raises(DataError, match="wgts has shape"):  # a new dataset of another length is checked too
        WeightedDL(torch.zeros(10, 1), wgts=[1.0] * 10).new(torch.zeros(5, 1))
    ds = torch.zeros(10, 1)
    with pytest.raises(DataError, match="give wgts or partial_n, not both"):
        DataLoaders.from_dsets(ds, ds, wgts=[1.0] * 10, partial_n=3)
    with pytest.raises(DataError, match="shuffle is off"):
        DataLoaders.from_dsets(ds, ds, wgts=[1.0] * 10, shuffle_train=False)
    assert check_weights([0, 2], 2, "x").dtype == torch.float64
