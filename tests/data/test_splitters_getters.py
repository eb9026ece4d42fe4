import pandas as pd
import pytest

from layered.core.seed import set_seed
from layered.data.errors import DataError
from layered.data.getters import ColReader, FileGetter, RegexLabeller, get_files, parent_label, using_attr
from layered.data.splitters import (
    ColSplitter,
    FileSplitter,
    FuncSplitter,
    GrandparentSplitter,
    IndexSplitter,
    MaskSplitter,
    RandomSplitter,
    TrainTestSplitter,
    check_splits,
)


@pytest.fixture
def tree(tmp_path):
    for split in ("train", "valid"):
        for label in ("cat", "dog"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(2):
                (tmp_path / split / label / f"{label}_{i}.JPG").write_text("x")
    (tmp_path / "train" / "notes.txt").write_text("x")
    return tmp_path


def test_get_files_filters_and_sorts(tree):
    files = get_files(tree, extensions=[".jpg"])
    assert len(files) == 8 and files == sorted(files)
    assert len(get_files(tree, extensions=["txt"])) == 1
    assert len(get_files(tree, folders=["valid"])) == 4
    assert len(get_files(tree / "train", recurse=False)) == 1
    assert len(FileGetter("train", extensions=[".jpg"])(tree)) == 4
    with pytest.raises(DataError, match="is not a folder"):
        get_files(tree / "missing")


def test_labellers(tree):
    f = get_files(tree, extensions=[".jpg"])[0]
    assert parent_label(f) == "cat"
    assert RegexLabeller(r"([a-z]+)_\d+")(f) == "cat"
    with pytest.raises(DataError, match=r"does not match item .*cat_0"):
        RegexLabeller(r"^(\d+)$", match=True)(f.name)
    assert using_attr(RegexLabeller(r"^([a-z]+)"), "name")(f) == "cat"
    row = pd.Series({"fname": "a.png", "tags": "x y"})
    assert ColReader("fname", pref="img/", suff="")(row) == "img/a.png"
    assert ColReader("tags", label_delim=" ")(row) == ["x", "y"]
    assert ColReader(["fname", "tags"])(row) == ["a.png", "x y"]
    with pytest.raises(DataError, match="no column 'nope'"):
        ColReader("nope")(row)


def test_splitters(tree):
    items = list(range(10))
    set_seed(0)
    train, valid = RandomSplitter(0.3, seed=1)(items)
    assert len(valid) == 3 and sorted(train + valid) == items
    assert RandomSplitter(0.3, seed=1)(items) == (train, valid)
    with pytest.raises(DataError, match="valid_pct"):
        RandomSplitter(1.5)
    assert IndexSplitter([1, 3])(items) == ([0, 2, 4, 5, 6, 7, 8, 9], [1, 3])
    assert MaskSplitter([i > 7 for i in items])(items)[1] == [8, 9]
    assert FuncSplitter(lambda o: o % 5 == 0)(items)[1] == [0, 5]
    files = get_files(tree, extensions=[".jpg"])
    train, valid = GrandparentSplitter()(files)
    assert len(train) == len(valid) == 4
    listing = tree / "valid.txt"
    listing.write_text("cat_0.JPG\n")
    assert len(FileSplitter(listing)(files)[1]) == 2
    df = pd.DataFrame({"is_valid": [True, False, False, True]})
    assert ColSplitter()(df) == ([1, 2], [0, 3])
    labels = [0] * 50 + [1] * 50
    train, test = TrainTestSplitter(0.2, random_state=0, stratify=labels)(list(range(100)))
    assert len(test) == 20 and sum(labels[i] for i in test) == 10


def test_check_splits_names_the_problem():
    with pytest.raises(DataError, match="train split is empty"):
        check_splits([[], [1]], 3)
    with pytest.raises(DataError, match=r"outside 0..2"):
        check_splits([[0], [5]], 3)
    with pytest.raises(DataError, match="repeats items"):
        check_splits([[0, 0], [1]], 3)
