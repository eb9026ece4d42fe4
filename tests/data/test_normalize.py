"""Tests of normalize."""

import torch

from layered.data.datasets import Datasets
from layered.data.tfmd_loader import TfmdDL


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
