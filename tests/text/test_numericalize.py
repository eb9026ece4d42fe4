from collections import Counter

import pytest
import torch

from layered.core.pipeline import Pipeline
from layered.text.errors import TextError
from layered.text.numericalize import LMTensorText, Numericalize, TensorText, make_vocab
from layered.text.rules import SPECIAL_TOKENS
from layered.text.tokenizer_transform import TextStr, Tokenizer, TokenList


def test_make_vocab_special_first_frequency_order_multiple_of_8():
    counts = Counter({"the": 9, "cat": 4, "bat": 4, "rare": 2, "xxbos": 5})
    vocab = make_vocab(counts, min_freq=3)
    assert vocab[: len(SPECIAL_TOKENS)] == list(SPECIAL_TOKENS)
    assert vocab[len(SPECIAL_TOKENS) : len(SPECIAL_TOKENS) + 3] == ["the", "bat", "cat"]  # ties alphabetical
    assert "rare" not in vocab and len(vocab) % 8 == 0 and len(set(vocab)) == len(vocab)
    assert vocab[-1].startswith("xxfake")
    capped = make_vocab(Counter({f"w{i}": 10 + i for i in range(100)}), min_freq=1, max_vocab=20)
    assert len(capped) == 24 and capped[9] == "w99"  # 20 kept (the most frequent first), padded to 24
    assert len(make_vocab(Counter({f"w{i}": 5 for i in range(7)}), special_toks=["xxunk"])) == 8
    with pytest.raises(TextError, match="no room"):
        make_vocab(counts, max_vocab=3)


def test_numericalize_encodes_unknown_and_decodes_without_padding():
    num = Numericalize(["xxunk", "xxpad", "a", "b"])
    ids = num(TokenList(["a", "zzz", "b"]))
    assert isinstance(ids, TensorText) and ids.tolist() == [2, 0, 3]
    assert num.decode(TensorText(torch.tensor([2, 1, 1, 3]))) == ["a", "b"]
    with pytest.raises(TextError, match="has no 'xxunk'"):
        Numericalize(["a", "b"])
    with pytest.raises(TextError, match="no vocabulary"):
        Numericalize()(["a"])


def test_numericalize_learns_vocab_from_tokenizer_counts():
    texts = ["The cat sat", "The cat ran", "The dog sat"]
    pipe = Pipeline([Tokenizer(n_workers=1), Numericalize(min_freq=2)])
    pipe.setup(texts)
    vocab = pipe.fs[1].vocab
    assert vocab[9:12] == ["the", "cat", "sat"]  # counted 3, 2, 2 (xxbos and xxmaj are special)
    assert {"the", "cat", "sat"} <= set(vocab) and "dog" not in vocab and len(vocab) % 8 == 0
    ids = pipe("The dog sat")
    assert ids.tolist()[:2] == [2, 8] and ids.tolist()[3] == 0  # xxbos, xxmaj, the, unknown dog
    text = pipe.decode(ids)
    assert isinstance(text, TextStr) and text == "xxbos xxmaj the xxunk sat"


def test_lm_text_type_keeps_through_ops():
    x = LMTensorText(torch.tensor([1, 2, 3]))
    assert type(x[1:]) is LMTensorText and isinstance(x, TensorText)
