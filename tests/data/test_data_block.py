"""Tests of data_block."""

import pandas as pd
import pytest
import torch
from data_frames import frame, row_x

from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.categorize import TensorCategory
from layered.data.data_block import DataBlock
from layered.data.errors import DataError
from layered.data.splitters import IndexSplitter, RandomSplitter


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
