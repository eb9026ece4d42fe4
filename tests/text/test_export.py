"""Round trips with the defaults: text classifiers and language models, exported and loaded, predict as before.

One test per row of issue 14's matrix: `text_classifier_learner` and `language_model_learner`
(AWD_LSTM, a tiny configuration), each with spaCy's tokenizer (the default) and with SentencePiece.
The models are fresh (`pretrained=False`, untrained): the same weights and pipeline must give the
same outputs.
"""

import random
import shutil

import pandas as pd
import pytest
import torch

from layered.core.seed import set_seed
from layered.text.awd_lstm import AWD_LSTM
from layered.text.dataloaders import TextDataLoaders
from layered.text.learner import LMLearner, TextLearner, language_model_learner, text_classifier_learner
from layered.text.tokenizer_transform import Tokenizer
from layered.text.tokenizers import SentencePieceTokenizer, SpacyTokenizer
from layered.train.learner import load_learner

CFG = {"emb_sz": 16, "n_hid": 24, "n_layers": 1}
ANIMALS, VERBS, THINGS = (
    ["cat", "dog", "bird", "fox"],
    ["sees", "likes", "chases"],
    ["a ball", "the sun", "a box"],
)
# texts neither set has seen: test_dl and predict read them through the loaded pipeline
NEW_TEXTS = ["The fox likes a box.", "A bird chases the sun and the dog sees a ball.", "cat cat cat"]


def frame(n=48, seed=0):
    """Short sentences labelled by the animal that starts them."""
    rng, rows = random.Random(seed), []
    for i in range(n):
        animal = rng.choice(ANIMALS)
        text = f"The {animal} {rng.choice(VERBS)} {rng.choice(THINGS)}. " * rng.randint(1, 3)
        rows.append((text.strip(), "pet" if animal in ("cat", "dog") else "wild", i >= n * 3 // 4))
    return pd.DataFrame(rows, columns=["text", "label", "is_valid"])


def tokenizer(kind, tmp_path):
    """The `tok_tfm` for a tokenizer kind: None (TextDataLoaders' default, spaCy) or SentencePiece."""
    if kind == "spacy":
        return None
    return Tokenizer.from_df(
        "text", tok=SentencePieceTokenizer(vocab_sz=48, cache_dir=tmp_path / "spm"), n_workers=1
    )


def dataloaders(kind, tmp_path, is_lm):
    labels = {} if is_lm else {"label_col": "label"}
    dls = TextDataLoaders.from_df(
        frame(),
        path=tmp_path,
        text_col="text",
        valid_col="is_valid",
        is_lm=is_lm,
        tok_tfm=tokenizer(kind, tmp_path),
        bs=8,
        seq_len=8,
        min_freq=1,
        n_workers=1,
        seed=0,
        **labels,
    )
    tok = dls.train_ds.tls[0].tfms.fs[0]
    assert isinstance(tok, Tokenizer)
    assert isinstance(tok.tok, SpacyTokenizer if kind == "spacy" else SentencePieceTokenizer)
    return dls


def assert_same_preds(learn, loaded, items, **kwargs):
    expected = learn.get_preds(dl=learn.dls.test_dl(items, **kwargs))[0]
    got = loaded.get_preds(dl=loaded.dls.test_dl(items, **kwargs))[0]
    assert len(expected) > 0 and torch.isfinite(expected).all()
    assert got.shape == expected.shape and torch.allclose(got, expected, atol=1e-6)


def assert_same_vocab(learn, loaded):
    assert list(loaded.dls.vocab) == list(learn.dls.vocab)
    tok, tok2 = learn.dls.train_ds.tls[0].tfms.fs[0], loaded.dls.train_ds.tls[0].tfms.fs[0]
    assert type(tok2.tok) is type(tok.tok)
    assert tok2(NEW_TEXTS[1]) == tok(NEW_TEXTS[1])  # the loaded tokenizer cuts new text the same way


@pytest.mark.parametrize("kind", ["spacy", "sentencepiece"])
def test_text_classifier(kind, tmp_path):
    dls = dataloaders(kind, tmp_path, is_lm=False)
    set_seed(0)
    learn = text_classifier_learner(dls, AWD_LSTM, seq_len=8, config=CFG, pretrained=False, path=tmp_path)
    loaded = load_learner(learn.export())
    assert isinstance(learn, TextLearner) and type(loaded.model) is type(learn.model)
    assert_same_vocab(learn, loaded)
    assert_same_preds(learn, loaded, NEW_TEXTS)
    label, index, probs = learn.predict(NEW_TEXTS[0])
    label2, index2, probs2 = loaded.predict(NEW_TEXTS[0])
    assert label in ("pet", "wild") and label2 == label and int(index2) == int(index)
    assert probs.shape == (2,) and torch.allclose(probs2, probs, atol=1e-6)


def test_a_sentencepiece_export_carries_its_model(tmp_path):
    """The one file is the whole export: loading it elsewhere (here, after the cache is cleared) still predicts."""
    dls = dataloaders("sentencepiece", tmp_path, is_lm=False)
    set_seed(0)
    learn = text_classifier_learner(dls, AWD_LSTM, seq_len=8, config=CFG, pretrained=False, path=tmp_path)
    expected = learn.predict(NEW_TEXTS[0])
    file = learn.export()
    shutil.rmtree(tmp_path / "spm")
    label, index, probs = load_learner(file).predict(NEW_TEXTS[0])
    assert label == expected[0] and int(index) == int(expected[1])
    assert torch.allclose(probs, expected[2], atol=1e-6)


@pytest.mark.parametrize("kind", ["spacy", "sentencepiece"])
def test_language_model(kind, tmp_path):
    dls = dataloaders(kind, tmp_path, is_lm=True)
    set_seed(0)
    learn = language_model_learner(dls, AWD_LSTM, config=CFG, pretrained=False, path=tmp_path)
    assert isinstance(learn, LMLearner)
    loaded = load_learner(learn.export())
    assert isinstance(loaded, LMLearner) and type(loaded.model) is type(learn.model)
    assert_same_vocab(learn, loaded)
    # one row and one step over the whole stream: get_preds cannot join batches of different lengths
    assert_same_preds(learn, loaded, NEW_TEXTS, bs=1, seq_len=1000)
    # generation draws tokens at random: the same seed must draw the same text from both
    set_seed(1)
    text = learn.predict("The fox", n_words=5)
    set_seed(1)
    assert loaded.predict("The fox", n_words=5) == text and text.lower().startswith("the fox")
