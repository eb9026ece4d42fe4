"""TabularModel and embedding sizes: shapes, the documented size rule, per-column overrides, output range."""

import pytest
import torch
from tabular_frames import CATS, CONTS, mixed_frame, splits

from layered.data.normalize import Normalize
from layered.tabular.errors import TabularError
from layered.tabular.model import TabularModel, emb_sz_rule, get_emb_sz, tabular_config
from layered.tabular.procs import Categorify, FillMissing
from layered.tabular.tabular_pandas import TabularPandas
from layered.train.nn.layers import LinBnDrop, SigmoidRange


def test_emb_sz_rule():
    assert [emb_sz_rule(n) for n in (2, 10, 100, 10_000)] == [2, 6, 21, 278]
    assert emb_sz_rule(10**7) == 600


def test_get_emb_sz_follows_the_vocabularies():
    to = TabularPandas(
        mixed_frame(), [Categorify, FillMissing, Normalize], CATS, CONTS, "y", splits=splits(400)
    )
    assert get_emb_sz(to) == [(4, 3), (5, 4), (3, 3)]  # color (+#na#), size (+#na#), a_na
    assert get_emb_sz(to, {"size": 10}) == [(4, 3), (5, 10), (3, 3)]
    with pytest.raises(TabularError, match=r"emb_szs names columns \['colour'\]"):
        get_emb_sz(to, {"colour": 3})


def test_forward_shapes_and_structure():
    model = TabularModel([(4, 3), (5, 4)], n_cont=2, out_sz=3, layers=[8, 6], ps=0.1, embed_p=0.2)
    cats, conts = torch.randint(0, 4, (16, 2)), torch.randn(16, 2)
    assert model(cats, conts).shape == (16, 3)
    blocks = list(model.layers)
    assert [type(b) for b in blocks] == [LinBnDrop] * 3
    assert blocks[0][0].in_features == 3 + 4 + 2 and blocks[-1][0].out_features == 3
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in blocks[-1])  # no bn after the output
    assert isinstance(model.bn_cont, torch.nn.BatchNorm1d)


def test_y_range_and_single_kinds_of_input():
    model = TabularModel([], n_cont=3, out_sz=2, layers=[5], y_range=(-1.0, 2.0))
    assert isinstance(model.layers[-1], SigmoidRange)
    out = model(torch.zeros(10, 0, dtype=torch.long), torch.randn(10, 3) * 100)
    assert out.shape == (10, 2) and out.min() > -1 and out.max() < 2
    cats_only = TabularModel([(6, 4)], n_cont=0, out_sz=1, layers=[4], **tabular_config(bn_cont=False))
    assert cats_only(torch.randint(0, 6, (5, 1)), torch.zeros(5, 0)).shape == (5, 1)


def test_bad_model_arguments():
    with pytest.raises(TabularError, match="ps has 1 dropout values for 2 layers"):
        TabularModel([(3, 2)], 1, 2, [4, 4], ps=[0.1])
    with pytest.raises(TabularError, match="at least one categorical or continuous input"):
        TabularModel([], 0, 2, [4])
