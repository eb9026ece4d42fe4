"""tokenize_files and the tokenized CSV round trip: the same tokens as the in-memory functions, named errors."""

import json
from collections import Counter

import pandas as pd
import pytest

from layered.text.errors import TextError
from layered.text.tokenize import tokenize_csv, tokenize_texts
from layered.text.tokenized_files import load_tokenized_csv, read_tokens, save_tokenized_csv, tokenize_files

TEXTS = {
    "train/pos/a.txt": "A GREAT film.\n\nLoved it  , really!",
    "train/neg/b.txt": "Not good: the plot   drags.",
    "valid/pos/c.txt": "Great!\tGreat fun.",
}


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "texts"
    for name, text in TEXTS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf8")
    (root / "notes.md").write_text("not a text file of the corpus", encoding="utf8")
    return root


def test_tokenize_files_writes_the_tokens_of_each_file_and_the_counts(folder):
    files, counter = tokenize_files(folder, n_workers=1, cache_dir=False, progress=False)
    out = folder.parent / "texts_tok"
    expected = dict(zip(TEXTS, tokenize_texts(TEXTS.values(), n_workers=1, progress=False)))
    assert sorted(f.relative_to(out).as_posix() for f in files) == sorted(f"{n}.json" for n in TEXTS)
    for name, tokens in expected.items():
        assert read_tokens(out / f"{name}.json") == tokens
    assert (
        "\n\n" in expected["train/pos/a.txt"] and "\t" in expected["valid/pos/c.txt"]
    )  # whitespace tokens survive
    total = Counter(t for toks in expected.values() for t in toks)
    assert counter == total and counter["great"] == 3
    assert json.loads((out / "counter.json").read_text(encoding="utf8")) == dict(total)
    assert json.loads((out / "lengths.json").read_text(encoding="utf8")) == {
        n: len(t) for n, t in expected.items()
    }
    only_train, _ = tokenize_files(
        folder, folder.parent / "train_tok", folders=["train"], n_workers=1, progress=False
    )
    assert len(only_train) == 2


def test_tokenize_files_names_bad_folders_and_files(folder, tmp_path):
    with pytest.raises(TextError, match="is inside the folder of texts"):
        tokenize_files(folder, folder / "tok", n_workers=1, progress=False)
    with pytest.raises(TextError, match=r"no \.rst files under"):
        tokenize_files(folder, tmp_path / "out", extensions=[".rst"], n_workers=1, progress=False)
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}', encoding="utf8")
    with pytest.raises(TextError, match=r"bad\.json: expected a JSON list of token strings, found dict"):
        read_tokens(bad)


def test_tokenized_csv_round_trip(tmp_path):
    df = pd.DataFrame({"text": ["One  text.", "Another\none, with\ttabs", "x"], "label": ["a", "b", "a"]})
    df.to_csv(tmp_path / "raw.csv", index=False)
    tokenized, counter = tokenize_csv(
        tmp_path / "raw.csv", "text", n_workers=1, cache_dir=False, progress=False
    )
    file = save_tokenized_csv(tokenized, tmp_path / "tok" / "reviews.csv")
    loaded, loaded_counter = load_tokenized_csv(file)
    assert loaded["text"].tolist() == tokenized["text"].tolist() and loaded_counter == counter
    assert loaded["label"].tolist() == ["a", "b", "a"] and loaded["text_length"].tolist() == [
        len(t) for t in tokenized["text"]
    ]
    assert "\n" in loaded["text"][1] and "\t" in loaded["text"][1]


def test_tokenized_csv_errors_name_the_file_row_and_column(tmp_path):
    with pytest.raises(TextError, match="no column 'text' of token lists"):
        save_tokenized_csv(pd.DataFrame({"words": [["a"]]}), tmp_path / "x.csv")
    with pytest.raises(
        TextError, match="row 1, column 'text': expected a JSON list of token strings, found str"
    ):
        save_tokenized_csv(pd.DataFrame({"text": [["a"], "a b"]}), tmp_path / "x.csv")
    with pytest.raises(TextError, match="is not a file"):
        load_tokenized_csv(tmp_path / "missing.csv")
    pd.DataFrame({"text": ['["a", "b"]', "a b"]}).to_csv(tmp_path / "plain.csv", index=False)
    with pytest.raises(TextError, match=r"plain\.csv, row 1, column 'text': not a JSON list of tokens"):
        load_tokenized_csv(tmp_path / "plain.csv")
    pd.DataFrame({"text": ['["a", "b"]'], "text_length": [3]}).to_csv(tmp_path / "lengths.csv", index=False)
    with pytest.raises(TextError, match=r"lengths\.csv, row 0: text_length says 3 tokens, the list has 2"):
        load_tokenized_csv(tmp_path / "lengths.csv")
    with pytest.raises(
        TextError, match=r"no column 'tokens' of token lists \(columns: \['text', 'text_length'\]\)"
    ):
        load_tokenized_csv(tmp_path / "lengths.csv", tok_text_col="tokens")
