"""AWD_LSTM and its dropouts: shapes, where the masks fall, when they apply, and the carried hidden state."""

import warnings

import pytest
import torch
from torch import nn

from layered.text.awd_lstm import AWD_LSTM, EmbeddingDropout, RNNDropout, WeightDropout
from layered.text.errors import TextError


@pytest.fixture(autouse=True)
def one_thread():
    # tiny models: threads only add contention on a shared machine
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def small(**kwargs):
    return AWD_LSTM(50, **{"emb_sz": 16, "n_hid": 24, "n_layers": 2, **kwargs})


@pytest.mark.parametrize("bidir", [False, True])
def test_shapes(bidir):
    torch.manual_seed(0)
    m = small(bidir=bidir)
    out = m(torch.randint(0, 50, (3, 7)))
    assert out.shape == (3, 7, 16)
    n_dir = 2 if bidir else 1
    assert [tuple(h.shape) for h, _ in m.hidden] == [(n_dir, 3, 24 // n_dir), (n_dir, 3, 16 // n_dir)]
    assert m.encoder.weight[1].abs().sum() == 0  # the padding row starts at zero


def test_from_embeds_and_bad_shapes():
    torch.manual_seed(0)
    m = small().eval()
    ids = torch.randint(0, 50, (2, 5))
    assert torch.allclose(m(m.encoder(ids), from_embeds=True), (m.reset(), m(ids))[1], atol=1e-6)
    with pytest.raises(TextError, match=r"\(bs, seq_len\) token ids"):
        m(torch.randint(0, 50, (5,)))
    with pytest.raises(TextError, match="even"):
        small(emb_sz=15, bidir=True)
    with pytest.raises(TextError, match="pad_token=60"):
        small(pad_token=60)


def test_rnn_dropout_mask_is_constant_over_time():
    torch.manual_seed(0)
    dp = RNNDropout(0.5)
    x = torch.ones(8, 6, 10)
    out = dp(x)
    assert torch.equal(out, out[:, :1].expand_as(out))  # the same mask at every step
    assert set(out.unique().tolist()) == {0.0, 2.0}  # kept features are scaled by 1/(1-p)
    assert 0.3 < (out[:, 0] == 0).float().mean() < 0.7
    assert torch.equal(dp.eval()(x), x)


def test_embedding_dropout_drops_whole_words():
    torch.manual_seed(0)
    emb = nn.Embedding(20, 8)
    dp = EmbeddingDropout(emb, 0.5)
    words = torch.arange(20).repeat(2, 3)  # every word six times
    out = dp(words)
    plain = emb(words)
    dropped = (out == 0).all(-1)
    assert dropped.any() and not dropped.all()
    # a word is dropped wherever it occurs, and the kept ones are scaled
    for w in range(20):
        where = words == w
        assert dropped[where].all() or not dropped[where].any()
    assert torch.allclose(out[~dropped], plain[~dropped] * 2)
    assert torch.equal(dp.eval()(words), plain)


def test_weight_dropout_only_in_training_and_no_warning():
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 6, batch_first=True)
    wd = WeightDropout(lstm, 0.5)
    assert wd.layer_names == ("weight_hh_l0",)
    assert list(wd.state_dict()) == [f"module.{k}" for k in lstm.state_dict()]
    x = torch.randn(3, 5, 4)
    before = lstm.weight_hh_l0.detach().clone()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out1, _ = wd(x)
        out2, _ = wd(x)
        out1.pow(2).sum().backward()
    assert not torch.allclose(out1, out2)  # a new mask each call
    assert torch.equal(lstm.weight_hh_l0, before)  # the parameter itself is never replaced
    zero_grad = (lstm.weight_hh_l0.grad == 0).float().mean()
    assert 0.3 < zero_grad < 0.7  # dropped entries get no gradient
    assert (lstm.weight_ih_l0.grad != 0).float().mean() > 0.9
    wd.eval()
    assert torch.equal(wd(x)[0], lstm(x)[0])


def test_weight_dropout_names_checked():
    with pytest.raises(TextError, match="no parameter"):
        WeightDropout(nn.LSTM(2, 3), 0.5, layer_names=("weight_hh_l1",))


def test_hidden_state_carried_detached_and_reset():
    torch.manual_seed(0)
    m = small().eval()
    x = torch.randint(2, 50, (2, 6))
    first = m(x)
    second = m(x)
    assert not torch.allclose(first, second)  # the second batch starts from the first's state
    assert all(not h.requires_grad and not c.requires_grad for h, c in m.hidden)
    m.reset()
    assert m.hidden is None
    assert torch.allclose(m(x), first, atol=1e-6)
    # the state carried is exactly the sequence read so far
    m.reset()
    assert torch.allclose(m(torch.cat([x, x], 1))[:, 6:], second, atol=1e-6)


def test_new_batch_size_starts_from_zeros_and_reset_rows():
    torch.manual_seed(0)
    m = small().eval()
    x = torch.randint(2, 50, (3, 4))
    fresh = m(x[:2])
    m.reset()
    m(x)
    assert torch.allclose(m(x[:2]), fresh, atol=1e-6)
    m.reset()
    m(x)
    m.reset_rows(torch.tensor([True, False, True]))
    assert all((h[:, [0, 2]] == 0).all() and (h[:, 1] != 0).any() for h, _ in m.hidden)
