"""Weighted and partial tabular loaders: rows drawn by weight or a random part per epoch, still sliced in memory."""

import numpy as np
import pytest
from tabular_frames import make

from layered.core.seed import set_seed
from layered.data.errors import DataError
from layered.tabular.sampling import PartialTabDataLoader, WeightedTabDataLoader
from layered.tabular.tab_loader import TabDataLoader


def test_weighted_rows_follow_the_weights():
    to = make()
    codes = to.subsets[0].tensors[-1].flatten().numpy()
    yes = list(to.y_proc.vocab).index("yes")
    is_yes = codes == yes
    wgts = np.where(is_yes, 1.0, 0.0)  # only "yes" rows
    dls = to.dataloaders(bs=32, wgts=wgts, num_workers=2)
    assert type(dls.train) is WeightedTabDataLoader and type(dls.valid) is TabDataLoader
    assert dls.train.fast_path
    set_seed(0)
    drawn = np.concatenate([b[-1].flatten().numpy() for b in dls.train])
    assert len(drawn) == len(dls.train) * 32 and set(drawn.tolist()) == {yes}
    assert len(dls.valid.dataset) == len(to.subsets[1])


def test_partial_epochs_of_a_table():
    to = make()
    dls = to.dataloaders(bs=16, partial_n=64)
    assert type(dls.train) is PartialTabDataLoader and len(dls.train) == 4
    set_seed(0)
    # column b has no missing values: its values name the rows
    a = np.concatenate([b[1][:, 1].numpy() for b in dls.train])
    b = np.concatenate([b[1][:, 1].numpy() for b in dls.train])
    assert len(a) == 64 and len(np.unique(a)) == 64 and set(a) != set(b)


def test_tabular_weights_of_the_wrong_length_are_named():
    to = make()
    with pytest.raises(DataError, match=r"WeightedTabDataLoader: wgts has shape \(3,\)"):
        to.dataloaders(wgts=[1.0, 2.0, 3.0])
