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
