"""Datasets: parallel pipelines over one collection, subsets, decoding, test sets and loaders."""

import pandas as pd
import pytest
import torch

from layered.core.collection import L
from layered.core.seed import set_seed
from layered.core.transform import Transform
from layered.data.categorize import Categorize, Category, TensorCategory
from layered.data.datasets import Datasets, test_set
from layered.data.errors import DataError
from layered.data.tfmd_lists import TfmdLists

WORDS = ["cat", "dog", "cat", "bird", "dog", "cat", "dog", "bird"]
SPLITS = [[0, 1, 2, 3, 4], [5, 6, 7]]


class Jitter(Transform):
    """Train-only: adds 100, so a test set (validation pipeline) must not see it."""

    split_idx = 0

    def encodes(self, x: float):
        return x + 100


def label(i):
    return WORDS[i]


def make(**kwargs):
    return Datasets(list(range(8)), [[float, Jitter()], [label, Categorize()]], splits=SPLITS, **kwargs)


def test_items_give_tuples_one_element_per_pipeline():
    dsets = make()
    x, y = dsets[1]
    assert x == 1.0 and type(y) is TensorCategory and int(y) == 2  # vocab: bird, cat, dog
    assert dsets.n_inp == 1 and len(dsets) == 8 and len(dsets.tls) == 2
    assert dsets.items == list(range(8)) and dsets.splits == SPLITS
    many = dsets[[0, 3]]
    assert isinstance(many, L) and [(x, int(y)) for x, y in many] == [(0.0, 1), (3.0, 0)]
    assert [x for x, _ in dsets] == [float(i) for i in range(8)]


def test_subsets_run_their_split():
    dsets = make()
    assert len(dsets.train) == 5 and len(dsets.valid) == 3 and dsets.n_subsets == 2
    assert dsets.train[0][0] == 100.0 and dsets.valid[0][0] == 5.0  # train-only transform
    assert dsets.train.split_idx == 0 and dsets.valid.split_idx == 1 and dsets.split_idx is None
    assert [len(s) for s in dsets.subsets] == [5, 3] and dsets.subset(1)[2][0] == 7.0
    assert dsets.valid.n_inp == 1


def test_n_inp_default_and_explicit():
    three = Datasets([1, 2], [[float], [str], [int]])
    assert three.n_inp == 2 and three[0] == (1.0, "1", 1)
    assert Datasets([1, 2], [[float], [str], [int]], n_inp=1).n_inp == 1
    assert Datasets([1, 2]).n_inp == 1 and Datasets([1, 2])[1] == (2,)  # no tfms: one identity pipeline
    with pytest.raises(DataError, match="n_inp=3 must be between 1 and the 2 pipelines"):
        Datasets([1, 2], [[float], [str]], n_inp=3)


def test_decode_and_show():
    dsets = make()
    decoded = dsets.decode(dsets.valid[0])
    assert decoded == (5.0, "cat") and isinstance(decoded[1], Category)
    assert dsets.show((torch.tensor(0.0), TensorCategory(2)), ctx=[]) == ["dog"]
    with pytest.raises(DataError, match=r"no element of \(float, str\) decodes to a value with a show"):
        dsets.show((1.0, "x"), ctx=[])
    with pytest.raises(DataError, match="3 elements for 2 pipelines"):
        dsets.decode((1, 2, 3))


def test_test_set_replays_the_validation_pipelines():
    dsets = make()
    tst = test_set(dsets, [2, 3])
    assert len(tst.tls) == 1 and list(tst) == [(2.0,), (3.0,)]  # no Jitter: runs as validation
    assert tst.split_idx == 1 and tst.n_inp == 1
    labelled = test_set(dsets, [3], with_labels=True)
    assert labelled.n_inp == 1 and [(x, int(y)) for x, y in labelled] == [(3.0, 0)]
    # the items already went through `float`: drop that leading step
    assert list(test_set(dsets, [2.5], rm_tfms=1)) == [(2.5,)]
    both = test_set(dsets, [2, 3], rm_tfms=[1, 0], with_labels=True)  # one count per pipeline
    assert [(x, int(y)) for x, y in both] == [(2, 1), (3, 0)]
    with pytest.raises(DataError, match="rm_tfms has 2 entries for 1 pipelines"):
        test_set(dsets, [1], rm_tfms=[1, 0])


def test_new_empty_keeps_the_set_up_pipelines():
    dsets = make()
    empty = dsets.new_empty()
    assert len(empty) == 0 and empty.split_idx == 1
    assert empty.tls[1].tfms.fs[-1].vocab == ["bird", "cat", "dog"]
    df = pd.DataFrame({"a": [1, 2, 3]})
    frame = Datasets(df, [[lambda r: r["a"]]], splits=[[0, 1], [2]])
    # no rows need no frame: an exported learner then carries no pandas internals
    assert len(frame.new_empty()) == 0 and len(frame.new_empty().items) == 0
    assert not isinstance(frame.new_empty().items, pd.DataFrame)


def test_dataloaders_build_one_loader_per_subset():
    dsets = Datasets(
        list(range(8)),
        [[lambda i: torch.tensor([float(i)])], [label, Categorize()]],
        splits=SPLITS,
    )
    dls = dsets.dataloaders(bs=2, shuffle_train=False)
    assert len(dls.loaders) == 2 and dls.train.bs == 2
    assert len(dls.train.dataset) == 5 and len(dls.valid.dataset) == 3
    x, y = next(iter(dls.valid))
    assert torch.equal(x, torch.tensor([[5.0], [6.0]])) and type(y) is TensorCategory
    assert y.tolist() == [1, 2]
    xs = torch.cat([b[0] for b in dls.train]).flatten().tolist()
    assert xs == [0.0, 1.0, 2.0, 3.0, 4.0]  # in order, last partial batch kept
    set_seed(0)
    shuffled = dsets.dataloaders(bs=2)
    epochs = [torch.cat([b[0] for b in shuffled.train]).flatten().tolist() for _ in range(4)]
    assert all(len(xs) == 4 and set(xs) <= {0.0, 1.0, 2.0, 3.0, 4.0} for xs in epochs)  # last batch dropped
    assert any(xs != sorted(xs) for xs in epochs)  # shuffled


def test_bad_inputs_fail_early():
    with pytest.raises(DataError, match="needs items"):
        Datasets()
    with pytest.raises(DataError, match=r"different lengths \[2, 3\]"):
        Datasets(tls=[TfmdLists([1, 2]), TfmdLists([1, 2, 3])])
    with pytest.raises(DataError, match="TfmdLists splits: splits 0 and 1 overlap"):
        Datasets(list(range(4)), [[float], [str]], splits=[[0, 1, 2], [2, 3]])
    with pytest.raises(DataError, match="subset 2 does not exist"):
        make().subset(2)


def test_datasets_give_tuples_decode_and_test_set():
    dsets = Datasets(
        list(range(8)),
        [[lambda i: float(i)], [lambda i: WORDS[i], Categorize()]],
        splits=[[0, 1, 2, 3, 4], [5, 6, 7]],
    )
    x, y = dsets[1]
    assert x == 1.0 and int(y) == 2
    assert dsets.decode(dsets[1]) == (1.0, "dog")
    assert len(dsets.train) == 5 and len(dsets.valid) == 3 and dsets.n_inp == 1
    tst = test_set(dsets, [2, 3])
    assert len(tst.tls) == 1 and tst[0] == (2.0,)
    assert len(dsets.new_empty()) == 0


def _label_or_fail(o):
    return 1 // (o - 7) if o == 7 else f"c{o % 2}"


def test_a_labeller_failing_in_setup_is_named_with_its_item():
    with pytest.raises(ZeroDivisionError) as info:
        Datasets(list(range(10)), [[lambda o: float(o)], [_label_or_fail, Categorize()]])
    assert info.value.__notes__ == ["layered: item 7 (7) failed in setting up Categorize, at _label_or_fail"]


def _fail_on_three(o):
    if o == 3:
        raise KeyError("no label for 3")
    return o


@pytest.mark.parametrize("num_workers", [0, 2])
def test_an_item_failing_in_the_loader_is_named(num_workers):
    dsets = Datasets(list(range(6)), [[_fail_on_three], [_fail_on_three]], do_setup=False)
    from layered.data.loader import DataLoader

    dl = DataLoader(dsets, bs=2, num_workers=num_workers)
    with pytest.raises(KeyError) as info:
        list(dl)
    notes = [n for n in getattr(info.value, "__notes__", []) if n.startswith("layered: item 3 (3) failed in")]
    assert len(notes) == 1 and "_fail_on_three" in notes[0]
