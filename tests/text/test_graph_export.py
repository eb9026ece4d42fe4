"""ONNX and torch.export of an AWD-LSTM text classifier: token ids of a fixed length in (issue 17)."""

import sys
from pathlib import Path

import torch
from graph_parity import assert_graph_parity, onnx_runtime

from layered.core.seed import set_seed
from layered.text.awd_lstm import AWD_LSTM
from layered.text.learner import text_classifier_learner
from layered.text.serving import pad_tokens

sys.path.insert(0, str(Path(__file__).parent))
from test_export import CFG, NEW_TEXTS, dataloaders

TEXT_LEN = 32  # four chunks of 8 tokens: longer than any text here


def served_tokens(dl, sidecar):
    """What a server does with the sidecar: each text's ids padded to text_len by its rule."""
    pad = sidecar["outside"]["padding"]
    rows = [
        pad_tokens(dl.do_item(i)[0].tolist(), pad["text_len"], pad["pad_idx"], pad["chunk"], pad["pad_first"])
        for i in range(len(dl.dataset))
    ]
    return torch.tensor(rows, dtype=torch.int64)


def test_awd_lstm_classifier_matches_get_preds(tmp_path):
    onnx_runtime()
    dls = dataloaders("spacy", tmp_path, is_lm=False)
    set_seed(0)
    learn = text_classifier_learner(dls, AWD_LSTM, seq_len=8, config=CFG, pretrained=False, path=tmp_path)
    texts = [*NEW_TEXTS, "the dog sees the cat", "a fox"]
    dl = learn.dls.test_dl(texts)

    def served(sidecar):
        assert sidecar["outside"]["padding"]["text_len"] == TEXT_LEN
        tokens = served_tokens(dl, sidecar)
        # the texts have different lengths: the padding differs from get_preds' batches, the outputs must not
        assert tokens.shape == (5, TEXT_LEN) and len({int((r != 1).sum()) for r in tokens}) > 1
        return (tokens,)

    sidecar = assert_graph_parity(learn, dl, served, tmp_path, text_len=TEXT_LEN)
    assert sidecar["inputs"] == [{"name": "tokens", "dtype": "int64", "shape": ["batch", TEXT_LEN]}]
    assert sidecar["outside"]["vocab"] == list(learn.dls.vocab[0])
    assert sidecar["decoding"]["classes"] == ["pet", "wild"]
