"""ProcessedTable: the type procs dispatch on, so a proc tells a table from a tensor batch."""

import torch
from tabular_frames import CATS, CONTS, mixed_frame, splits

from layered.tabular.procs import FillMissing, TabularNormalize
from layered.tabular.table import ProcessedTable
from layered.tabular.tabular_pandas import TabularPandas


def test_a_tabular_pandas_is_a_processed_table_and_normalize_dispatches_on_it():
    to = TabularPandas(mixed_frame(), [FillMissing, TabularNormalize], CATS, CONTS, "y", splits=splits(400))
    assert isinstance(to, ProcessedTable)
    norm = to.procs.fs[-1]
    assert set(norm.means) == set(CONTS)  # set up on the table's columns
    batch = (torch.tensor([[3.0]]), torch.tensor([1]))
    tensor_norm = TabularNormalize(mean=torch.tensor([1.0]), std=torch.tensor([2.0]))
    assert torch.allclose(tensor_norm(batch)[0], torch.tensor([[1.0]]))  # a batch is not a table
