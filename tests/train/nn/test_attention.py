"""SelfAttention and SimpleSelfAttention: identity at init, values against a manual computation."""

import pytest
import torch

from layered.train.errors import TrainError
from layered.train.nn.attention import SelfAttention, SimpleSelfAttention


def test_self_attention_starts_as_identity():
    torch.manual_seed(0)
    m = SelfAttention(16)
    assert torch.equal(m.gamma, torch.zeros(1))
    x = torch.randn(2, 16, 4, 5)
    torch.testing.assert_close(m(x), x)
    assert m(torch.randn(2, 16, 7)).shape == (2, 16, 7)
    with pytest.raises(TrainError, match="8 channels"):
        SelfAttention(4)


def test_self_attention_matches_manual_computation():
    torch.manual_seed(0)
    m = SelfAttention(16).eval()
    with torch.no_grad():
        m.gamma.fill_(0.5)
    x = torch.randn(2, 16, 3, 3)
    flat = x.flatten(2)
    wq, wk, wv = (c.weight.detach().squeeze(-1) for c in (m.query, m.key, m.value))
    q, k, v = wq @ flat, wk @ flat, wv @ flat
    beta = torch.softmax(q.transpose(1, 2) @ k, dim=1)
    expected = (flat + 0.5 * v @ beta).view_as(x)
    torch.testing.assert_close(m(x), expected)
    assert wq.shape == (2, 16)


def test_simple_self_attention_matches_manual_computation():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 3, 4)
    m = SimpleSelfAttention(6).eval()
    torch.testing.assert_close(m(x), x)
    with torch.no_grad():
        m.gamma.fill_(0.1)
    flat = x.flatten(2)
    w = m.conv.weight.detach().squeeze(-1)
    torch.testing.assert_close(m(x), (flat + 0.1 * (flat @ flat.transpose(1, 2)) @ (w @ flat)).view_as(x))

    sym = SimpleSelfAttention(6, sym=True).eval()
    with torch.no_grad():
        sym.gamma.fill_(0.1)
    w = sym.conv.weight.detach().squeeze(-1)
    ws = (w + w.t()) / 2
    assert not torch.allclose(w, w.t())
    torch.testing.assert_close(sym(x), (flat + 0.1 * (flat @ flat.transpose(1, 2)) @ (ws @ flat)).view_as(x))


def test_simple_self_attention_kernel_size_and_sym_check():
    assert SimpleSelfAttention(6, ks=3)(torch.randn(2, 6, 10)).shape == (2, 6, 10)
    with pytest.raises(TrainError, match="ks=1"):
        SimpleSelfAttention(6, ks=3, sym=True)
