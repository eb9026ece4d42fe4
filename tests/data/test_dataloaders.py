"""Tests of dataloaders."""

import pytest
import torch
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import TensorDataset

from layered.data.dataloaders import DataLoaders
from layered.data.errors import DataError


def test_plain_torch_loaders_adopt_the_container():
    ds = TensorDataset(torch.randn(10, 2), torch.arange(10))
    dls = DataLoaders(TorchDataLoader(ds, batch_size=4), TorchDataLoader(ds, batch_size=5))
    assert len(dls.train) == 3 and len(dls.valid) == 2
    assert dls.one_batch()[0].shape == (4, 2)
    with pytest.raises(DataError, match="show_batch needs a layered TfmdDL"):
        dls.show_batch()
    with pytest.raises(DataError, match="no validation loader"):
        DataLoaders(TorchDataLoader(ds)).valid


def test_any_dataloaders_with_a_categorical_target_has_vocab_and_c():
    from layered.data.categorize import Categorize
    from layered.data.datasets import Datasets

    dsets = Datasets(["b", "a", "b", "c"], [[lambda o: 1.0], [Categorize()]], splits=[[0, 1, 3], [2]])
    dls = dsets.dataloaders(bs=2)
    assert type(dls) is DataLoaders and list(dls.vocab) == ["a", "b", "c"] and dls.c == 3
    plain = DataLoaders(torch.utils.data.DataLoader(list(range(4))))
    assert plain.vocab is None and plain.c is None
