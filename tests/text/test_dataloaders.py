import random

import pandas as pd
import pytest

import layered.text.show  # noqa: F401  (registers show_batch for texts)
from layered.data.categorize import TensorCategory
from layered.text.dataloaders import TextDataLoaders
from layered.text.errors import TextError
from layered.text.lm_loader import LMDataLoader
from layered.text.numericalize import LMTensorText, TensorText
from layered.text.sorted_loader import SortedDL

WORDS = ["the", "cat", "dog", "sat", "ran", "on", "mat", "log", "big", "small", "red", "blue"]


def frame(n=60, seed=0):
    rng = random.Random(seed)
    texts = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 15))).capitalize() + "." for _ in range(n)
    ]
    # case-blind, like the tokens the test reads back ("Cat" becomes "xxmaj cat")
    return pd.DataFrame({"text": texts, "label": ["cat" if "cat" in t.lower() else "other" for t in texts]})


def test_classifier_from_df_end_to_end(capsys):
    df = frame()
    dls = TextDataLoaders.from_df(
        df, text_col="text", label_col="label", bs=8, seed=1, min_freq=1, n_workers=1
    )
    assert isinstance(dls.train, SortedDL) and len(dls.valid.dataset) == 12
    tokens, labels = dls.vocab
    assert tokens[:2] == ["xxunk", "xxpad"] and len(tokens) % 8 == 0 and list(labels) == ["cat", "other"]
    x, y = dls.valid.one_batch()
    assert type(x) is TensorText and type(y) is TensorCategory and x.shape[0] == 8
    lengths = (x != 1).sum(1).tolist()
    assert lengths == sorted(lengths, reverse=True)  # validation: longest first
    decoded = dls.valid.decode_batch((x, y), max_n=2)
    assert decoded[0][0].startswith("xxbos xxmaj") and decoded[0][1] in ("cat", "other")
    assert ("cat" in decoded[0][0].split()) == (decoded[0][1] == "cat")
    shown = dls.show_batch(max_n=3)
    assert list(shown.columns) == ["text", "target"] and len(shown) == 3
    assert "xxpad" not in capsys.readouterr().out
    test = dls.test_dl(["A big cat.", "Red log."])
    (tx,) = test.one_batch()
    assert tx.shape == (2, 6) and tx[0].tolist() == [2, 8, 0] + [tokens.index(w) for w in ("big", "cat", ".")]


def test_language_model_from_df():
    dls = TextDataLoaders.from_df(frame(), is_lm=True, bs=4, seq_len=6, seed=1, min_freq=1, n_workers=1)
    assert isinstance(dls.train, LMDataLoader)
    x, y = dls.train.one_batch()
    assert type(x) is LMTensorText and x.shape == (4, 6) and (x[:, 1:] == y[:, :-1]).all()
    shown = dls.show_batch(max_n=2, show=True)
    assert list(shown.columns) == ["text", "text_"]
    assert shown["text"][0].split()[1:] == shown["text_"][0].split()[:-1]


def test_from_csv_with_fixed_vocab(tmp_path):
    frame().to_csv(tmp_path / "texts.csv", index=False)
    vocab = ["xxunk", "xxpad", "xxbos", "xxmaj", "cat", "dog", ".", "the"]
    dls = TextDataLoaders.from_csv(
        tmp_path, "texts.csv", text_col="text", label_col="label", text_vocab=vocab, bs=4
    )
    assert dls.vocab[0] == vocab and (tmp_path / ".layered_text").is_dir()
    assert int(dls.one_batch()[0].max()) < len(vocab)


def test_from_folder(tmp_path):
    rng = random.Random(0)
    for split, n in (("train", 8), ("valid", 4)):
        for label in ("pos", "neg"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(n):
                words = [rng.choice(WORDS) for _ in range(5)] + (["great"] if label == "pos" else ["awful"])
                (tmp_path / split / label / f"{i}.txt").write_text(" ".join(words))
    dls = TextDataLoaders.from_folder(tmp_path, bs=4, min_freq=1, n_workers=1)
    assert len(dls.train.dataset) == 16 and len(dls.valid.dataset) == 8
    x, y = dls.valid.one_batch()
    for text, label in dls.valid.decode_batch((x, y)):
        assert text.split()[-1] == ("great" if label == "pos" else "awful")


def test_bad_input_is_named():
    df = frame()
    with pytest.raises(TextError, match=r"no text column \['body'\]"):
        TextDataLoaders.from_df(df, text_col="body")
    with pytest.raises(TextError, match="label_col position 5 is past the 2 columns"):
        TextDataLoaders.from_df(df, label_col=5)
    bad = df.astype({"text": object})
    bad.loc[7, "text"] = float("nan")
    with pytest.raises(TextError, match="row 7, column 'text': the text is missing"):
        TextDataLoaders.from_df(bad, bs=4, seed=1, n_workers=1)
    bad.loc[7, "text"] = 42
    with pytest.raises(TextError, match="row 7, column 'text': expected a string, found int"):
        TextDataLoaders.from_df(bad, bs=4, seed=1, n_workers=1)
