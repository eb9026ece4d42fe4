"""TfmdLists, Datasets, TfmdDL, DataLoaders and the data block API on small synthetic data."""

import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset

from layered.core.transform import Transform
from layered.data.blocks import CategoryBlock, MultiCategoryBlock, RegressionBlock, TransformBlock
from layered.data.categorize import Categorize, Category, TensorCategory, TensorMultiCategory
from layered.data.data_block import DataBlock
from layered.data.dataloaders import DataLoaders
from layered.data.datasets import Datasets, test_set
from layered.data.errors import DataError
from layered.data.splitters import IndexSplitter, RandomSplitter
from layered.data.tfmd_lists import TfmdLists
from layered.data.tfmd_loader import TfmdDL

WORDS = ["cat", "dog", "cat", "bird", "dog", "cat", "dog", "bird"]


class Negate(Transform):
    """Train-only: changes training items, never validation ones."""

    split_idx = 0

    def encodes(self, x: int):
        return -x


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


def test_tfmd_dl_runs_pipelines_decodes_and_shows():
    class Double(Transform):
        def encodes(self, x: torch.Tensor):
            return x * 2

        def decodes(self, x: torch.Tensor):
            return x / 2

    dsets = Datasets(
        list(range(8)),
        [[lambda i: torch.tensor([float(i)])], [lambda i: WORDS[i], Categorize()]],
        splits=[list(range(8)), []] if False else [[0, 1, 2, 3, 4, 5], [6, 7]],
    )
    dl = TfmdDL(dsets.train, bs=3, after_batch=Double())
    x, y = dl.one_batch()
    assert torch.equal(x, torch.tensor([[0.0], [2.0], [4.0]])) and type(y) is TensorCategory
    items = dl.decode_batch((x, y))
    assert items[1][0].item() == 1.0 and items[1][1] == "dog"
    frame = dl.show_batch(max_n=2)
    assert list(frame.columns) == ["item_0", "item_1"] and len(frame) == 2


def test_plain_torch_loaders_adopt_the_container():
    ds = TensorDataset(torch.randn(10, 2), torch.arange(10))
    dls = DataLoaders(TorchDataLoader(ds, batch_size=4), TorchDataLoader(ds, batch_size=5))
    assert len(dls.train) == 3 and len(dls.valid) == 2
    assert dls.one_batch()[0].shape == (4, 2)
    with pytest.raises(DataError, match="show_batch needs a layered TfmdDL"):
        dls.show_batch()
    with pytest.raises(DataError, match="no validation loader"):
        DataLoaders(TorchDataLoader(ds)).valid


def frame():
    return pd.DataFrame(
        {
            "x": [float(i) for i in range(20)],
            "label": ["a", "b"] * 10,
            "tags": ["p q", "q", "p", ""] * 5,
            "value": [i / 2 for i in range(20)],
        }
    )


def row_x(r):
    return torch.tensor([r["x"]])


def test_data_block_end_to_end_on_a_dataframe():
    df = frame()
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=row_x,
        get_y=lambda r: r["label"],
        splitter=RandomSplitter(0.25, seed=0),
    )
    dls = dblock.dataloaders(df, bs=4)
    assert len(dls.train.dataset) == 15 and len(dls.valid.dataset) == 5
    x, y = dls.one_batch()
    assert x.shape == (4, 1) and type(y) is TensorCategory
    t = dls.test_dl(df.iloc[:3])
    assert next(iter(t))[0].shape == (3, 1)


def test_multicategory_and_regression_blocks():
    df = frame()
    multi = DataBlock(
        blocks=(TransformBlock(), MultiCategoryBlock()),
        get_x=row_x,
        get_y=lambda r: r["tags"].split(),
        splitter=IndexSplitter([0, 1, 2, 3]),
    )
    _, y = multi.dataloaders(df, bs=4).valid.one_batch()
    assert type(y) is TensorMultiCategory and y.tolist() == [[1, 1], [0, 1], [1, 0], [0, 0]]
    reg = DataBlock(
        blocks=(TransformBlock(), RegressionBlock()),
        get_x=row_x,
        get_y=lambda r: r["value"],
        splitter=IndexSplitter([0, 1]),
    )
    _, y = reg.dataloaders(df, bs=2).valid.one_batch()
    assert y.dtype == torch.float32 and y.tolist() == [0.0, 0.5]


def test_bad_inputs_fail_early_naming_the_item():
    df = frame()
    with pytest.raises(DataError, match="returned no items"):
        DataBlock(get_items=lambda src: []).datasets("somewhere")
    unseen = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "label": ["a", "a", "b", "zzz"]})
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=row_x,
        get_y=lambda r: r["label"],
        splitter=IndexSplitter([3]),
    )
    with pytest.raises(DataError, match=r"label 'zzz' is not in the vocabulary"):
        dblock.datasets(unseen)
    with pytest.raises(DataError, match="splits 0 and 1 overlap"):
        DataBlock(splitter=lambda items: ([0, 1], [1, 2])).datasets(list(range(3)))
    with pytest.raises(DataError, match="valid split is empty"):
        DataBlock(splitter=lambda items: ([0, 1, 2], [])).datasets(list(range(3)))

    def bad_label(r):
        raise ValueError(f"cannot label row {r['x']}")

    with pytest.raises(ValueError, match="cannot label row"):
        DataBlock(blocks=(TransformBlock(), CategoryBlock()), get_x=row_x, get_y=bad_label).datasets(df)


def test_summary_walks_one_item_and_names_the_failing_step():
    df = frame()
    lines = []
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=row_x,
        get_y=lambda r: r["label"],
        splitter=IndexSplitter([0, 1]),
    )
    dls = dblock.summary(df, bs=4, print_fn=lines.append)
    text = "\n".join(lines)
    assert "Collecting items: 20 items" in text and "sizes [18, 2]" in text
    assert "Categorize: TensorCategory" in text and "Collating 4 items" in text
    assert dls.train.bs == 4

    def flaky(r):
        if r["x"] == 7.0:
            raise KeyError("missing label")
        return r["label"]

    broken = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()), get_x=row_x, get_y=flaky, splitter=IndexSplitter([0, 1])
    )
    with pytest.raises(
        DataError, match=r"pipeline 1, step flaky failed on item 7 .*KeyError: 'missing label'"
    ):
        broken.summary(df, print_fn=lines.append)


def test_normalize_from_a_batch_touches_inputs_only_and_decodes():
    from layered.data.normalize import Normalize, ToTensor

    x = torch.randn(64, 3) * 5 + 2
    y = torch.arange(64).float()
    dsets = Datasets(
        list(range(64)), [[lambda i: x[i]], [lambda i: y[i]]], splits=[list(range(48)), list(range(48, 64))]
    )
    dl = TfmdDL(dsets.train, bs=48, after_batch=Normalize())
    xb, yb = dl.one_batch()
    assert torch.allclose(xb.mean(0), torch.zeros(3), atol=1e-5) and torch.allclose(
        xb.std(0), torch.ones(3), atol=1e-4
    )
    assert torch.equal(yb.sort().values, y[:48])  # the float target is left alone
    dec_x, _ = dl.after_batch.decode((xb, yb))
    assert torch.allclose(dec_x.sort(0).values, x[:48].sort(0).values, atol=1e-4)
    fixed = Normalize.from_stats([1.0, 2.0], [2.0, 4.0], dim=1, ndim=2)
    assert torch.allclose(fixed((torch.tensor([[3.0, 6.0]]),))[0], torch.tensor([[1.0, 1.0]]))
    import numpy as np

    assert torch.equal(ToTensor()(np.arange(3)), torch.arange(3)) and ToTensor()(2.5).item() == 2.5


def test_getters_returning_the_wrong_type_fail_at_build_time():
    df = frame()
    several = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=row_x,
        get_y=lambda r: [r["label"]],
        splitter=IndexSplitter([0, 1]),
    )
    with pytest.raises(DataError, match=r"label \['a'\] \(training item 0\) is a list.*MultiCategoryBlock"):
        several.datasets(df)
    ragged = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=lambda r: torch.zeros(int(r["x"]) + 1),
        get_y=lambda r: r["label"],
        splitter=IndexSplitter([0, 1]),
    )
    with pytest.raises(DataError, match=r"first training batch cannot be built.*different shapes.*summary"):
        ragged.dataloaders(df, bs=4)
