"""Tests of tokenizer_transform."""

import pickle
from pathlib import Path

import pandas as pd
import pytest

from layered.text.errors import TextError
from layered.text.tokenizer_transform import TextStr, Tokenizer, TokenList


def split_texts(texts):
    """A tokenizer of our own: any picklable callable on a list of texts."""
    return [t.split() for t in texts]


def test_tokenizer_reads_strings_files_and_rows(tmp_path):
    tok = Tokenizer()
    assert tok("Hi there") == ["xxbos", "xxmaj", "hi", "there"]
    assert isinstance(tok("Hi there"), TokenList)
    f = tmp_path / "a.txt"
    f.write_text("Hi file")
    assert tok(f) == ["xxbos", "xxmaj", "hi", "file"]
    rows = Tokenizer.from_df(["title", "body"])
    row = pd.Series({"title": "Big", "body": "news"}, name=7)
    assert rows(row) == ["xxbos", "xxfld", "1", "xxmaj", "big", "xxfld", "2", "news"]
    decoded = tok.decode(tok("Hi there"))
    assert isinstance(decoded, TextStr) and decoded == "xxbos xxmaj hi there"


def test_tokenizer_setups_counts_and_memoizes():
    calls = []

    def counting(texts):
        calls.append(len(texts))
        return split_texts(texts)

    tok = Tokenizer(counting, rules=[], post_rules=[], n_workers=1)
    tok.setup(["a b", "b c", "a b"])
    assert tok.counter == {"a": 2, "b": 3, "c": 1}
    assert sum(calls) == 2  # the repeated text once
    assert tok("a b") == ["a", "b"] and sum(calls) == 2  # memoized: not tokenized again
    assert tok("new text") == ["new", "text"] and sum(calls) == 3


def test_tokenizer_with_any_callable_and_a_bad_item():
    tok = Tokenizer(split_texts, rules=[str.upper], post_rules=[])
    assert tok("a b") == ["A", "B"]
    with pytest.raises(TextError, match="cannot read a text from int"):
        tok(3)
    with pytest.raises(TextError, match="tok must be a callable"):
        Tokenizer(tok="spacy")


def test_tokenizer_row_errors_name_row_and_column():
    tok = Tokenizer.from_df("text")
    with pytest.raises(TextError, match=r"row 4, column 'text': the text is missing"):
        tok(pd.Series({"text": float("nan")}, name=4))
    with pytest.raises(TextError, match=r"row 5, column 'text': expected a string, found int"):
        tok(pd.Series({"text": 12}, name=5))
    with pytest.raises(TextError, match=r"no text column 'text'"):
        tok(pd.Series({"body": "x"}, name=6))


def test_tokenizer_pickles_without_its_memo():
    tok = Tokenizer(split_texts, rules=[], post_rules=[])
    tok("a b")
    copy = pickle.loads(pickle.dumps(tok))
    assert copy._memo == {} and copy("a b") == ["a", "b"]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(TextError, match=r"missing\.txt"):
        Tokenizer()(Path(tmp_path / "missing.txt"))


def test_bytes_are_decoded_and_broken_text_is_named():
    tok = Tokenizer(tok=lambda texts: [t.split() for t in texts], rules=[], n_workers=0)
    assert tok("a b") == tok(b"a b") == ["xxbos", "a", "b"]
    with pytest.raises(TextError, match=r"lone surrogate '\\ud800' at character 2"):
        tok("a \ud800 b")
    with pytest.raises(TextError, match="3 bytes are not utf8 text"):
        tok(b"a\xffb")


def fail_on_boom(t):
    """A text rule that fails on one text."""
    if "boom" in t:
        raise ValueError("no boom")
    return t


def test_a_failing_rule_is_named_in_the_pipelines_note_with_the_items_index():
    from layered.data.tfmd_lists import TfmdLists

    tok = Tokenizer(split_texts, rules=[fail_on_boom], post_rules=[], n_workers=0)
    tls = TfmdLists(["fine", "still fine", "a boom"], [tok], do_setup=False)  # items encoded one by one
    assert tls[1] == ["still", "fine"]
    with pytest.raises(ValueError, match="no boom") as info:
        tls[2]
    assert len(info.value.__notes__) == 1  # the pipeline's, not "item 0" of a one-text call
    assert info.value.__notes__[0].startswith("layered: item 2 ('a boom') failed in TfmdLists")
    assert "at the text rule" in info.value.__notes__[0] and "fail_on_boom" in info.value.__notes__[0]
