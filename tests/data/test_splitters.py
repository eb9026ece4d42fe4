"""Splitters: exact splits on small items, and early errors for empty or overlapping splits."""

import numpy as np
import pandas as pd
import pytest
import torch

from layered.core.seed import set_seed
from layered.data.errors import DataError
from layered.data.splitters import (
    ColSplitter,
    EndSplitter,
    FileSplitter,
    FuncSplitter,
    GrandparentSplitter,
    IndexSplitter,
    MaskSplitter,
    RandomSplitter,
    RandomSubsetSplitter,
    Splitter,
    TrainTestSplitter,
    check_splits,
)

ITEMS = list(range(10))


@pytest.fixture
def files(tmp_path):
    paths = []
    for split in ("train", "valid", "test"):
        for label in ("cat", "dog"):
            folder = tmp_path / split / label
            folder.mkdir(parents=True)
            for i in range(2):
                (folder / f"{split}_{label}_{i}.png").write_text("")
                paths.append(folder / f"{split}_{label}_{i}.png")
    return sorted(paths)


def test_random_splitter_is_a_partition_repeatable_with_a_seed():
    train, valid = RandomSplitter(0.3, seed=1)(ITEMS)
    assert len(valid) == 3 and len(train) == 7
    assert sorted(train + valid) == ITEMS and train == sorted(train) and valid == sorted(valid)
    assert RandomSplitter(0.3, seed=1)(ITEMS) == (train, valid)
    assert any(RandomSplitter(0.3, seed=s)(ITEMS)[1] != valid for s in range(2, 6))
    # without a seed, the global generator: set_seed makes it repeatable
    set_seed(3)
    first = RandomSplitter(0.5)(ITEMS)
    set_seed(3)
    assert RandomSplitter(0.5)(ITEMS) == first
    assert RandomSplitter(0.3, seed=1).__name__ == "RandomSplitter(valid_pct=0.3, seed=1)"


@pytest.mark.parametrize("pct", [0, 1, 1.5, -0.1])
def test_random_splitter_rejects_valid_pct_outside_0_1(pct):
    with pytest.raises(DataError, match=rf"RandomSplitter: valid_pct .* got {pct}"):
        RandomSplitter(pct)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_random_splitters_reject_a_seed_that_is_not_a_non_negative_integer(seed):
    with pytest.raises(DataError, match=r"RandomSplitter: seed must be a non-negative integer or None"):
        RandomSplitter(0.2, seed=seed)
    with pytest.raises(DataError, match=r"RandomSubsetSplitter\(.*\): seed must be a non-negative integer"):
        RandomSubsetSplitter(0.2, 0.2, seed=seed)


def test_random_splitter_too_few_items_fails_naming_sizes():
    with pytest.raises(
        DataError, match=r"RandomSplitter.*valid split is empty \(sizes \[2, 0\] of 2 items\)"
    ):
        RandomSplitter(0.2, seed=0)([1, 2])


def test_index_mask_and_func_splitters():
    assert IndexSplitter([3, 1, 3])(ITEMS) == ([0, 2, 4, 5, 6, 7, 8, 9], [1, 3])
    assert MaskSplitter([i > 7 for i in ITEMS])(ITEMS) == (list(range(8)), [8, 9])
    assert FuncSplitter(lambda o: o % 5 == 0)(ITEMS) == ([1, 2, 3, 4, 6, 7, 8, 9], [0, 5])
    df = pd.DataFrame({"a": [1, 2, 3, 4]})
    assert FuncSplitter(lambda row: row["a"] > 2)(df) == ([0, 1], [2, 3])  # rows, not column names


def test_index_mask_and_func_splitters_fail_early():
    with pytest.raises(DataError, match=r"IndexSplitter: the valid split has indices \[12\] outside 0..9"):
        IndexSplitter([1, 12])(ITEMS)
    with pytest.raises(DataError, match=r"IndexSplitter: the train split is empty \(sizes \[0, 3\]"):
        IndexSplitter([0, 1, 2])([7, 8, 9])
    with pytest.raises(DataError, match="MaskSplitter: the mask has 3 entries for 10 items"):
        MaskSplitter([True, False, True])(ITEMS)
    with pytest.raises(DataError, match=r"FuncSplitter\(<lambda>\): the valid split is empty"):
        FuncSplitter(lambda o: o > 100)(ITEMS)


def test_grandparent_splitter_uses_the_folder_two_levels_up(files):
    train, valid = GrandparentSplitter()(files)
    assert [files[i].parent.parent.name for i in train] == ["train"] * 4
    assert [files[i].parent.parent.name for i in valid] == ["valid"] * 4
    train, valid = GrandparentSplitter(valid_name="test")(files)
    assert len(train) == 4 and {files[i].parent.parent.name for i in valid} == {"test"}
    with pytest.raises(DataError, match=r"GrandparentSplitter\('train', 'val'\): the valid split is empty"):
        GrandparentSplitter(valid_name="val")(files)


def test_file_splitter_reads_valid_names(tmp_path, files):
    listing = tmp_path / "valid.txt"
    listing.write_text("train_cat_0.png\n\n  test_dog_1.png  \n")
    train, valid = FileSplitter(listing)(files)
    assert [files[i].name for i in valid] == ["test_dog_1.png", "train_cat_0.png"]
    assert len(train) == len(files) - 2
    with pytest.raises(DataError, match=r"list of validation files .*nowhere\.txt does not exist"):
        FileSplitter(tmp_path / "nowhere.txt")


def test_col_splitter_bool_column_value_and_position():
    df = pd.DataFrame({"is_valid": [True, False, False, True], "fold": [1, 2, 1, 3]})
    assert ColSplitter()(df) == ([1, 2], [0, 3])
    assert ColSplitter("fold", on=1)(df) == ([1, 3], [0, 2])
    assert ColSplitter(0)(df) == ([1, 2], [0, 3])
    assert ColSplitter("fold", on=3).__name__ == "ColSplitter('fold', on=3)"
    assert ColSplitter()(pd.DataFrame({"is_valid": [0, 1, 1]})) == ([0], [1, 2])


def test_col_splitter_fails_early_naming_the_column():
    df = pd.DataFrame({"is_valid": [True, False], "fold": [1, 2]})
    with pytest.raises(DataError, match=r"no column 'split' \(columns: \['is_valid', 'fold'\]\)"):
        ColSplitter("split")(df)
    with pytest.raises(DataError, match=r"column 'fold' is not boolean .*on=<value>"):
        ColSplitter("fold")(df)
    with pytest.raises(DataError, match="expected a DataFrame, got list"):
        ColSplitter()([1, 2])
    with pytest.raises(DataError, match=r"ColSplitter\('is_valid'\): the train split is empty"):
        ColSplitter()(pd.DataFrame({"is_valid": [True, True]}))


def test_train_test_splitter_plain_and_sized():
    train, test = TrainTestSplitter(0.3, random_state=0)(ITEMS)
    assert len(test) == 3 and sorted(train + test) == ITEMS
    assert TrainTestSplitter(0.3, random_state=0)(ITEMS) == (train, test)
    assert TrainTestSplitter(2, shuffle=False)(ITEMS) == (list(range(2, 10)), [0, 1])
    train, test = TrainTestSplitter(0.2, train_size=0.5, random_state=1)(ITEMS)
    assert len(train) == 5 and len(test) == 2 and not set(train) & set(test)


def test_train_test_splitter_keeps_class_shares():
    labels = ["a"] * 60 + ["b"] * 30 + ["c"] * 10
    train, test = TrainTestSplitter(0.2, random_state=0, stratify=labels)(list(range(100)))
    assert len(test) == 20 and len(train) == 80
    assert [sum(labels[i] == c for i in test) for c in "abc"] == [12, 6, 2]
    # 7 test items of 3+3+1: shares 2.1, 2.1, 0.7 sum exactly to 7 by largest remainders
    labels = [0, 0, 0, 1, 1, 1, 2, 3, 3, 3]
    train, test = TrainTestSplitter(0.7, random_state=0, stratify=labels)(ITEMS)
    assert len(test) == 7 and sorted(train + test) == ITEMS
    counts = [sum(labels[i] == c for i in test) for c in range(4)]
    assert sum(counts) == 7 and all(counts[c] <= [3, 3, 1, 3][c] for c in range(4))
    train, test = TrainTestSplitter(0.25, train_size=0.5, random_state=0, stratify=[0, 1] * 4)(range(8))
    assert len(train) == 4 and len(test) == 2 and sorted({i % 2 for i in test}) == [0, 1]


def test_train_test_splitter_fails_early():
    with pytest.raises(DataError, match=r"test_size=1.5 gives 15 of 10 items; expected 1..9"):
        TrainTestSplitter(1.5)(ITEMS)
    with pytest.raises(DataError, match=r"test_size=0 gives 0 of 10 items"):
        TrainTestSplitter(0)(ITEMS)
    with pytest.raises(DataError, match=r"8 train \+ 4 test items exceed the 10 items"):
        TrainTestSplitter(0.4, train_size=0.8)(ITEMS)
    with pytest.raises(DataError, match="stratify has 3 labels for 10 items"):
        TrainTestSplitter(stratify=[0, 1, 0])(ITEMS)


def test_check_splits_names_the_problem_and_sizes():
    check_splits([[0, 1], [2]], 3)  # a valid partition passes
    check_splits([[0], [1], [2]], 3)  # a third split is allowed
    with pytest.raises(DataError, match=r"mine: the train split is empty \(sizes \[0, 1\] of 3 items\)"):
        check_splits([[], [1]], 3, name="mine")
    with pytest.raises(DataError, match=r"split 2 is empty"):
        check_splits([[0], [1], []], 3)
    with pytest.raises(
        DataError, match=r"splits 0 and 1 overlap on 2 items, e.g. index 1 \(sizes \[3, 2\] of 4 items\)"
    ):
        check_splits([[0, 1, 2], [1, 2]], 4)
    with pytest.raises(DataError, match=r"indices \[-1, 5\] outside 0..2"):
        check_splits([[0, 5, -1], [1]], 3)
    with pytest.raises(DataError, match=r"repeats items \(1 duplicates\)"):
        check_splits([[0, 0], [1]], 3)
    with pytest.raises(DataError, match="returned no split"):
        check_splits([], 3)


def test_the_same_seed_splits_ranges_arrays_tensors_and_frames_alike():
    n = 50
    first = RandomSplitter(0.2, seed=3)(range(n))
    for items in (list(range(n)), np.zeros(n), torch.zeros(n, 2), pd.DataFrame({"a": np.arange(n)})):
        assert RandomSplitter(0.2, seed=3)(items) == first
    train, valid = first
    assert len(valid) == 10 and sorted(train + valid) == list(range(n))
    assert all(type(i) is int for i in train + valid)


def test_a_large_random_split_is_a_sorted_partition():
    n = 100_000
    splitter = RandomSplitter(0.25, seed=0)
    assert isinstance(splitter, Splitter) and repr(splitter) == "RandomSplitter(valid_pct=0.25, seed=0)"
    train, valid = splitter.positions(range(n))
    assert train.dtype == valid.dtype == np.int64 and len(valid) == 25_000 and len(train) == 75_000
    assert (np.diff(train) > 0).all() and (np.diff(valid) > 0).all()
    assert np.array_equal(np.union1d(train, valid), np.arange(n))
    assert splitter(range(n)) == (train.tolist(), valid.tolist())
    # not a block: the validation items spread over the whole range
    assert np.histogram(valid, bins=10, range=(0, n))[0].min() > 2_000


def test_end_splitter_takes_the_last_or_first_items():
    assert EndSplitter(0.3)(ITEMS) == ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9])
    assert EndSplitter(0.3, valid_last=False)(ITEMS) == ([3, 4, 5, 6, 7, 8, 9], [0, 1, 2])
    assert EndSplitter(0.2)(pd.DataFrame({"t": range(5)})) == ([0, 1, 2, 3], [4])
    assert EndSplitter(0.3).__name__ == "EndSplitter(valid_pct=0.3, valid_last=True)"
    with pytest.raises(DataError, match=r"EndSplitter: valid_pct must be between 0 and 1 .* got 1.2"):
        EndSplitter(1.2)
    with pytest.raises(
        DataError, match=r"EndSplitter\(valid_pct=0.1, valid_last=True\): the valid split is empty"
    ):
        EndSplitter(0.1)([1, 2, 3])


def test_random_subset_splitter_draws_disjoint_subsets_and_leaves_the_rest_out():
    train, valid = RandomSubsetSplitter(0.5, 0.2, seed=1)(range(100))
    assert len(train) == 50 and len(valid) == 20 and not set(train) & set(valid)
    assert train == sorted(train) and valid == sorted(valid)
    assert RandomSubsetSplitter(0.5, 0.2, seed=1)(range(100)) == (train, valid)
    assert RandomSubsetSplitter(0.5, 0.2, seed=2)(range(100)) != (train, valid)
    train, valid = RandomSubsetSplitter(30, 10, seed=0)(np.zeros(100))  # numbers of items
    assert (len(train), len(valid)) == (30, 10)
    set_seed(5)
    first = RandomSubsetSplitter(0.1, 0.1)(range(100))
    set_seed(5)
    assert RandomSubsetSplitter(0.1, 0.1)(range(100)) == first


def test_random_subset_splitter_fails_early_naming_the_sizes():
    with pytest.raises(DataError, match=r"train_sz \+ valid_sz must be at most 1, got 1.2"):
        RandomSubsetSplitter(0.7, 0.5)
    with pytest.raises(DataError, match=r"valid_sz must be between 0 and 1 .* got 1.5"):
        RandomSubsetSplitter(0.5, 1.5)
    with pytest.raises(DataError, match=r"60 train \+ 50 valid items exceed the 100 items"):
        RandomSubsetSplitter(60, 50)(range(100))
    with pytest.raises(DataError, match=r"valid_sz=0.01 gives 0 of 10 items; expected 1..9"):
        RandomSubsetSplitter(0.5, 0.01)(ITEMS)


def test_index_splitter_takes_arrays_tensors_and_ranges_of_positions():
    expected = ([0, 1, 2, 4, 5, 6, 8, 9], [3, 7])
    for idx in (np.array([7, 3]), torch.tensor([3, 7]), range(3, 8, 4), [3.0, 7.0]):
        assert IndexSplitter(idx)(ITEMS) == expected
    with pytest.raises(
        DataError, match=r"valid_idx must hold integer item positions, got bool .*MaskSplitter"
    ):
        IndexSplitter(np.array([True, False]))
    with pytest.raises(DataError, match=r"valid_idx must hold integer item positions, got <U1"):
        IndexSplitter(["a", "b"])
    with pytest.raises(DataError, match=r"the valid split has indices \[-3, 10\] outside 0..9"):
        IndexSplitter([10, -3, 2])(ITEMS)


def test_mask_and_batched_func_splitters_work_on_whole_arrays():
    assert MaskSplitter(torch.tensor([False, True, False, True]))(range(4)) == ([0, 2], [1, 3])
    df = pd.DataFrame({"year": [2018, 2021, 2019, 2022, 2020]})
    assert FuncSplitter(lambda d: d["year"] >= 2021, batched=True)(df) == ([0, 2, 4], [1, 3])
    assert FuncSplitter(lambda x: x > 2, batched=True)(torch.arange(5)) == ([0, 1, 2], [3, 4])
    assert FuncSplitter(lambda x: x > 2)(np.arange(5)) == ([0, 1, 2], [3, 4])  # one item at a time
    with pytest.raises(
        DataError,
        match=r"FuncSplitter\(<lambda>\): with batched=True, func must return one boolean per item \(5\), got int64",
    ):
        FuncSplitter(lambda d: d["year"], batched=True)(df)


def test_col_splitter_on_text_and_nullable_columns():
    df = pd.DataFrame(
        {"part": ["train", "valid", None, "valid"], "flag": pd.array([True, None, False, True])}
    )
    assert ColSplitter("part", on="valid")(df) == ([0, 2], [1, 3])  # a missing value is not a match
    assert ColSplitter("flag", on=True)(df) == ([1, 2], [0, 3])
    with pytest.raises(DataError, match=r"column 'flag' is not boolean .*on=<value>"):
        ColSplitter("flag")(df)


def test_train_test_splitter_stratifies_text_labels_and_refuses_missing_ones():
    labels = pd.Series(["x"] * 40 + ["y"] * 40 + ["z"] * 20)
    train, test = TrainTestSplitter(0.25, random_state=0, stratify=labels)(range(100))
    assert labels.iloc[test].value_counts().to_dict() == {"x": 10, "y": 10, "z": 5}
    assert TrainTestSplitter(0.25, random_state=0, stratify=labels)(range(100)) == (train, test)
    ordered = TrainTestSplitter(0.25, shuffle=False, stratify=labels)(range(100))[1]
    assert ordered == [*range(10), *range(40, 50), *range(80, 85)]  # each class's first items
    with pytest.raises(DataError, match="stratify has a missing label at item 2"):
        TrainTestSplitter(0.5, stratify=["a", "b", None, "a"])(range(4))


@pytest.mark.parametrize("n_classes", [3, 300])  # per-class draws, and one permutation past 256 classes
def test_stratified_split_draws_every_class_at_random_with_exact_shares(n_classes):
    labels = np.repeat(np.arange(n_classes), 10)
    n = len(labels)
    splitter = TrainTestSplitter(0.3, train_size=0.4, random_state=5, stratify=labels)
    train, test = splitter.positions(range(n))
    assert (np.bincount(labels[test]) == 3).all() and (np.bincount(labels[train]) == 4).all()
    assert not set(train) & set(test)
    # random within each class: not each class's first items, and another seed draws others
    firsts = np.arange(n).reshape(n_classes, 10)[:, :3].ravel()
    assert not np.array_equal(test, firsts)
    assert not np.array_equal(
        TrainTestSplitter(0.3, random_state=6, stratify=labels).positions(range(n))[1], test
    )
    # every item of a class is equally likely to be drawn for test: over seeds, each is drawn ~30% of the time (binomial spread)
    drawn = np.zeros(n)
    for seed in range(200):
        drawn[TrainTestSplitter(0.3, random_state=seed, stratify=labels).positions(range(n))[1]] += 1
    assert drawn.min() / 200 > 0.12 and drawn.max() / 200 < 0.48


def test_check_splits_takes_arrays_and_tensors_and_refuses_non_positions():
    check_splits((np.array([0, 2]), torch.tensor([1])), 3)
    with pytest.raises(DataError, match=r"splits 0 and 1 overlap on 1 items, e.g. index 2"):
        check_splits((np.array([0, 2]), torch.tensor([2, 1])), 3)
    with pytest.raises(DataError, match=r"the valid split must hold integer item positions, got float64"):
        check_splits(([0], [1.5]), 3)
