"""TfmdLists: lazy transforms, setup on the training split, subsets and split-aware transforms."""

import numpy as np
import pandas as pd
import pytest
import torch

from layered.core.collection import L
from layered.core.pipeline import Pipeline
from layered.core.transform import Transform
from layered.data.categorize import Categorize, Category, TensorCategory
from layered.data.errors import DataError
from layered.data.tfmd_lists import TfmdLists

WORDS = ["cat", "dog", "cat", "bird", "dog", "cat", "dog", "fish"]
SPLITS = [[0, 1, 2, 3], [4, 5, 6, 7]]


class Shift(Transform):
    """Subtracts the minimum of the items it was set up on; counts calls and setups."""

    def __init__(self):
        self.calls, self.seen = 0, None

    def setups(self, items):
        self.seen = list(items)
        self.low = min(self.seen)

    def encodes(self, x: int):
        self.calls += 1
        return x - self.low

    def decodes(self, x: int):
        return x + self.low


class Negate(Transform):
    """Runs on the training subset only."""

    split_idx = 0

    def encodes(self, x: int):
        return -x


class Labelled(str):
    """A value that shows itself by appending to a list context."""

    def show(self, ctx=None, **kwargs):
        ctx.append(f"<{self}>")
        return ctx


def test_items_are_transformed_on_access_only():
    shift = Shift()
    tl = TfmdLists([5, 7, 9, 6], [shift], splits=[[0, 1], [2, 3]])
    assert shift.calls == 0 and shift.seen == [5, 7]  # set up on the training items only
    assert tl[2] == 4 and shift.calls == 1
    assert isinstance(tl.items, L) and tl.items == [5, 7, 9, 6] and len(tl) == 4


def test_indexing_forms():
    tl = TfmdLists([5, 7, 9, 6], [Shift()], splits=[[0, 1], [2, 3]])
    assert tl[np.int64(1)] == 2 and tl[torch.tensor(3)] == 1
    for idx in ([0, 2], np.array([0, 2]), torch.tensor([0, 2]), [True, False, True, False], slice(0, 3, 2)):
        got = tl[idx]
        assert isinstance(got, L) and got == [0, 4], idx
    assert list(tl) == [0, 2, 4, 1]
    with pytest.raises(IndexError):
        tl[4]


def test_setup_on_train_split_or_on_all_items():
    tl = TfmdLists(WORDS, [Categorize()], splits=SPLITS)
    assert list(tl.tfms.fs[0].vocab) == ["bird", "cat", "dog"]  # 'fish' is validation only
    assert tl[1] == TensorCategory(2) and type(tl[1]) is TensorCategory
    everything = TfmdLists(WORDS, [Categorize()], splits=SPLITS, train_setup=False)
    assert list(everything.tfms.fs[0].vocab) == ["bird", "cat", "dog", "fish"]
    shift = Shift()
    TfmdLists([5, 7], [shift], do_setup=False)
    assert shift.seen is None


def test_subsets_pass_their_split_idx():
    tl = TfmdLists([1, 2, 3, 4, 5], [Negate()], splits=[[0, 1], [2, 3, 4]])
    assert tl.n_subsets == 2 and [len(s) for s in tl.subsets] == [2, 3]
    assert list(tl.train) == [-1, -2] and list(tl.valid) == [3, 4, 5]
    assert tl.train.split_idx == 0 and tl.valid.split_idx == 1 and tl.split_idx is None
    assert list(tl.subset(1)) == list(tl.valid)
    assert list(tl) == [1, 2, 3, 4, 5]  # the full list runs as no subset: train-only steps skip
    assert list(TfmdLists([1, 2], [Negate()], split_idx=0)) == [-1, -2]
    with pytest.raises(DataError, match="subset 2 does not exist: these items have 2 splits"):
        tl.subset(2)
    assert TfmdLists([1, 2], [Negate()]).n_subsets == 1


def test_subsets_share_the_set_up_transforms():
    shift = Shift()
    tl = TfmdLists([5, 7, 9, 6], [shift], splits=[[0, 1], [2, 3]])
    assert tl.valid.tfms.fs[0] is shift and list(tl.valid) == [4, 1]


def test_bad_splits_fail_early():
    with pytest.raises(DataError, match="TfmdLists splits: splits 0 and 1 overlap on 1 items"):
        TfmdLists([1, 2, 3], [Negate()], splits=[[0, 1], [1, 2]])
    with pytest.raises(DataError, match="TfmdLists splits: the valid split is empty"):
        TfmdLists([1, 2, 3], [Negate()], splits=[[0, 1, 2], []])
    with pytest.raises(DataError, match=r"indices \[3\] outside 0..2"):
        TfmdLists([1, 2, 3], [Negate()], splits=[[0, 3], [1]])


def test_decode_show_and_new_without_setup():
    tl = TfmdLists(WORDS, [Categorize()], splits=SPLITS)
    decoded = tl.decode(tl[3])
    assert decoded == "bird" and isinstance(decoded, Category)
    assert tl.show(tl[1], ctx=[]) == ["dog"]
    shows = TfmdLists(["a", "b"], [Labelled])
    assert shows.show(shows[0], ctx=[]) == ["<a>"]
    shift = Shift()
    tl = TfmdLists([5, 7, 9], [shift], splits=[[0, 1], [2]])
    new = tl.new([10, 20])
    assert list(new) == [5, 15] and shift.seen == [5, 7]  # no re-setup on the new items
    assert new.split_idx is None and tl.new([10], split_idx=1).split_idx == 1
    assert tl.decode(new[0]) == 10


def test_items_containers():
    df = pd.DataFrame({"a": [3, 1, 2]})
    tl = TfmdLists(df, [lambda row: int(row["a"]) * 10], splits=[[0, 2], [1]])
    assert tl.items is df and tl[1] == 10 and list(tl.valid) == [10]
    assert tl.valid.items.equals(df.iloc[[1]])
    arr = np.arange(6).reshape(3, 2)
    kept = TfmdLists(arr, [lambda r: int(r.sum())], splits=[[0, 1], [2]])
    assert kept.items is arr and list(kept.valid) == [9] and isinstance(kept.valid.items, np.ndarray)
    listed = TfmdLists(torch.arange(4), [lambda t: int(t) + 1], use_list=True, splits=[[0, 1], [2, 3]])
    assert isinstance(listed.items, L) and list(listed.valid) == [3, 4]
    assert isinstance(listed.valid.items, L)


def test_types_are_checked_on_the_first_training_item():
    TfmdLists([1, 2], [lambda x: float(x)], types=float)
    with pytest.raises(
        DataError, match=r"item 1 became str through Pipeline: <lambda>; expected int or float"
    ):
        TfmdLists(["a", "b"], [lambda x: x.upper()], types=(int, float), splits=[[1], [0]])


def test_verbose_prints_the_types_of_the_first_item(capsys):
    TfmdLists([" a "], [str.strip, Pipeline([len])], verbose=True)
    out = capsys.readouterr().out
    assert out.splitlines() == ["TfmdLists: item 0 is str", "  after strip: str", "  after len: int"]


def test_repr():
    tl = TfmdLists([1, 2, 3], [Negate()], splits=[[0, 1], [2]])
    assert repr(tl) == "TfmdLists: 3 items (splits [2, 1]) through Pipeline: Negate"


def test_tfmd_lists_setup_on_train_and_subsets():
    tl = TfmdLists(WORDS, [Categorize()], splits=[[0, 1, 2, 3], [4, 5, 6, 7]])
    vocab = tl.tfms.fs[0].vocab
    assert list(vocab) == ["bird", "cat", "dog"]  # sorted, from the training items
    assert tl[0] == TensorCategory(1) and type(tl[0]) is TensorCategory
    assert tl.decode(tl[1]) == "dog" and isinstance(tl.decode(tl[1]), Category)
    assert len(tl.train) == 4 and len(tl.valid) == 4 and tl.valid[0] == 2
    assert [int(o) for o in tl[[0, 3]]] == [1, 0]


def test_split_idx_makes_train_only_transforms_skip_validation():
    tl = TfmdLists([1, 2, 3, 4], [Negate()], splits=[[0, 1], [2, 3]])
    assert list(tl.train) == [-1, -2] and list(tl.valid) == [3, 4]
