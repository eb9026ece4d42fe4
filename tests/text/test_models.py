"""Language-model and classifier assembly: decoder, chunked sentence encoder, masked pooling, splits."""

import pytest
import torch
from torch import nn

from layered.text.awd_lstm import AWD_LSTM
from layered.text.errors import TextError
from layered.text.models import (
    LinearDecoder,
    PoolingLinearClassifier,
    SentenceEncoder,
    SequentialRNN,
    awd_lstm_clas_split,
    awd_lstm_lm_split,
    get_language_model,
    get_text_classifier,
    masked_concat_pool,
    text_arch_meta,
)
from layered.text.sorted_loader import pad_input_chunk

CFG = {"emb_sz": 16, "n_hid": 24, "n_layers": 2}


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def encoder():
    torch.manual_seed(0)
    return AWD_LSTM(40, **CFG).eval()


def test_language_model_shapes_tied_weights_and_dropout_scaling():
    torch.manual_seed(0)
    lm = get_language_model(AWD_LSTM, 40, config=CFG, drop_mult=0.5)
    dec, raw, dropped = lm(torch.randint(0, 40, (3, 9)))
    assert dec.shape == (3, 9, 40) and raw.shape == dropped.shape == (3, 9, 16)
    assert lm[1].decoder.weight is lm[0].encoder.weight
    assert lm[0].hidden_dps[0].p == pytest.approx(0.15 * 0.5)  # the LM config's hidden_p, halved
    assert lm[1].output_dp.p == pytest.approx(0.05)
    untied = get_language_model(AWD_LSTM, 40, config={**CFG, "tie_weights": False})
    assert untied[1].decoder.weight is not untied[0].encoder.weight
    with pytest.raises(TextError, match="cannot tie"):
        LinearDecoder(41, 16, tie_encoder=nn.Embedding(40, 16))


def test_sequential_rnn_reset_propagates():
    lm = get_language_model(AWD_LSTM, 40, config=CFG)
    lm(torch.randint(0, 40, (2, 4)))
    assert lm[0].hidden is not None
    lm.reset()
    assert lm[0].hidden is None


def test_sentence_encoder_short_doc_equals_single_pass():
    enc = encoder()
    x = torch.randint(2, 40, (2, 5))
    out, mask = SentenceEncoder(8, enc)(x)
    enc.reset()
    assert torch.allclose(out, enc(x), atol=1e-6)
    assert not mask.any() and mask.shape == (2, 5)


def test_sentence_encoder_chunks_long_docs_and_keeps_the_last_max_len():
    enc = encoder()
    x = torch.randint(2, 40, (2, 23))
    enc.reset()
    full = enc(x)
    out, _ = SentenceEncoder(5, enc)(x)
    assert torch.allclose(out, full, atol=1e-5)  # the hidden state goes from chunk to chunk
    kept, mask = SentenceEncoder(5, enc, max_len=7)(x)
    # the chunks covering the last 7 tokens: positions 15..22
    assert kept.shape == (2, 8, 16) and mask.shape == (2, 8)
    assert torch.allclose(kept, full[:, 15:], atol=1e-5)


def test_sentence_encoder_text_reads_the_same_whatever_it_is_batched_with():
    enc = encoder()
    short, long = torch.randint(2, 40, (7,)), torch.randint(2, 40, (17,))
    batch = torch.stack(pad_input_chunk([short, long], pad_idx=1, seq_len=5, pad_first=True))
    out, mask = SentenceEncoder(5, enc)(batch)
    alone, _ = SentenceEncoder(5, enc)(short[None])
    real = ~mask[0]
    assert real.sum() == 7
    assert torch.allclose(out[0][real], alone[0], atol=1e-5)


def test_masked_concat_pool_ignores_padding():
    torch.manual_seed(0)
    out = torch.randn(2, 6, 3)
    mask = torch.tensor([[False] * 6, [False, False, False, False, True, True]])
    pooled = masked_concat_pool(out, mask)
    garbage = out.clone()
    garbage[1, 4:] = 1e6
    assert torch.equal(masked_concat_pool(garbage, mask), pooled)
    row = out[1, :4]
    assert torch.allclose(pooled[1], torch.cat([row[-1], row.max(0).values, row.mean(0)]))
    assert torch.allclose(pooled[0], torch.cat([out[0, -1], out[0].max(0).values, out[0].mean(0)]))
    # padding first: the last real step is the last position
    first = torch.tensor([[True, True, False, False, False, False]])
    assert torch.allclose(masked_concat_pool(out[:1], first)[0, :3], out[0, -1])
    assert torch.equal(masked_concat_pool(out[:1], torch.ones(1, 6, dtype=torch.bool)), torch.zeros(1, 9))


def test_classifier_shapes_y_range_and_errors():
    torch.manual_seed(0)
    model = get_text_classifier(AWD_LSTM, 40, 3, seq_len=4, config=CFG, lin_ftrs=[10], max_len=8).eval()
    x = torch.randint(2, 40, (5, 12))
    x[0, :4] = 1
    scores, raw, dropped = model(x)
    assert scores.shape == (5, 3) and raw.shape == (5, 8, 16) and raw is dropped
    reg = get_text_classifier(AWD_LSTM, 40, 1, config=CFG, y_range=(0, 5)).eval()
    assert ((reg(x)[0] > 0) & (reg(x)[0] < 5)).all()
    with pytest.raises(TextError, match="dropouts"):
        PoolingLinearClassifier([48, 10, 2], [0.1])
    with pytest.raises(TextError, match="pad_token=0 but pad_idx=1"):
        get_text_classifier(AWD_LSTM, 40, 2, config={**CFG, "pad_token": 0})


def _covers_once(groups, model):
    ids = [id(p) for g in groups for p in g]
    return len(ids) == len(set(ids)) and set(ids) == {id(p) for p in model.parameters()}


def test_splits_cover_every_parameter_once():
    lm = get_language_model(AWD_LSTM, 40, config=CFG)
    groups = awd_lstm_lm_split(lm)
    assert len(groups) == 3 and _covers_once(groups, lm)
    assert any(p is lm[0].encoder.weight for p in groups[-1])  # the tied embedding goes with the decoder
    clas = get_text_classifier(AWD_LSTM, 40, 2, config=CFG)
    groups = awd_lstm_clas_split(clas)
    assert len(groups) == 4 and _covers_once(groups, clas)
    assert {id(p) for p in groups[-1]} == {id(p) for p in clas[1].parameters()}


def test_unknown_arch():
    with pytest.raises(TextError, match="register_text_arch"):
        text_arch_meta(nn.LSTM)
    assert isinstance(SequentialRNN(nn.Identity()), nn.Sequential)
