"""Tests of blocks."""

import torch
from data_frames import frame, row_x

from layered.data.blocks import MultiCategoryBlock, RegressionBlock, TransformBlock
from layered.data.categorize import TensorMultiCategory
from layered.data.data_block import DataBlock
from layered.data.splitters import IndexSplitter


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
