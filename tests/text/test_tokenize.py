import os
import subprocess
import sys
import textwrap
from collections import Counter

import pandas as pd
import pytest

from layered.text import tokenizers
from layered.text.errors import TextError
from layered.text.tokenize import tokenize_csv, tokenize_df, tokenize_folder, tokenize_texts

TEXTS = [f"Text number {i} says Hello to the WORLD {'again ' * (i % 4)}." for i in range(40)]


class CountingTokenizer:
    """Splits on spaces and counts the texts it was given (in this process)."""

    cache_key = "CountingTokenizer"

    def __init__(self):
        self.seen = 0

    def __call__(self, texts):
        self.seen += len(texts)
        return [t.split() for t in texts]


def test_two_workers_give_the_same_tokens_as_one():
    one = tokenize_texts(TEXTS, n_workers=1, progress=False)
    two = tokenize_texts(TEXTS, n_workers=2, progress=False)
    assert one == two and len(one) == len(TEXTS)
    assert one[1][:4] == ["xxbos", "xxmaj", "text", "number"]


def test_bad_texts_and_settings():
    with pytest.raises(TextError, match="text 1 is float"):
        tokenize_texts(["ok", float("nan")], n_workers=1, progress=False)
    with pytest.raises(TextError, match="n_workers must be an integer >= 0"):
        tokenize_texts(["ok"], n_workers=-1, progress=False)
    assert tokenize_texts(["a b"], n_workers=0, progress=False) == tokenize_texts(
        ["a b"], n_workers=1, progress=False
    )
    with pytest.raises(TextError, match="cannot be sent to worker processes"):
        tokenize_texts(["a", "b"], tok=lambda ts: [t.split() for t in ts], n_workers=2, progress=False)
    assert tokenize_texts(["", "a"], n_workers=1, progress=False) == [
        ["xxbos"],
        ["xxbos", "a"],
    ]  # empty: allowed


def test_texts_cache_reused_and_invalidated(tmp_path):
    tok = CountingTokenizer()
    first = tokenize_texts(TEXTS, tok=tok, n_workers=1, cache_dir=tmp_path, progress=False)
    assert tok.seen == len(TEXTS) and len(list(tmp_path.iterdir())) == 1
    assert tokenize_texts(TEXTS, tok=tok, n_workers=1, cache_dir=tmp_path, progress=False) == first
    assert tok.seen == len(TEXTS)  # read from the cache
    tokenize_texts(TEXTS, tok=tok, rules=[], n_workers=1, cache_dir=tmp_path, progress=False)
    assert tok.seen == 2 * len(TEXTS)  # other rules: recomputed
    tokenize_texts(TEXTS[:-1] + ["changed"], tok=tok, n_workers=1, cache_dir=tmp_path, progress=False)
    assert tok.seen == 3 * len(TEXTS)  # other texts: recomputed


def test_tokenize_df_joins_fields_and_names_bad_cells():
    df = pd.DataFrame({"title": ["Big news", "Small"], "body": ["All good", "fine"], "y": [1, 0]})
    out, counts = tokenize_df(df, ["title", "body"], n_workers=1, progress=False)
    assert list(out.columns) == ["y", "text", "text_length"]
    assert out["text"][0] == [
        "xxbos",
        "xxfld",
        "1",
        "xxmaj",
        "big",
        "news",
        "xxfld",
        "2",
        "xxmaj",
        "all",
        "good",
    ]
    assert out["text_length"].tolist() == [11, 8] and counts["xxfld"] == 4
    with pytest.raises(TextError, match=r"no text column \['text'\].*columns: \['title', 'body', 'y'\]"):
        tokenize_df(df, "text", progress=False)
    bad = df.assign(body=["ok", None])
    with pytest.raises(TextError, match="row 1, column 'body': the text is missing"):
        tokenize_df(bad, ["title", "body"], progress=False)
    with pytest.raises(TextError, match="row 0, column 'y': expected a string, found int"):
        tokenize_df(df, "y", progress=False)


def test_tokenize_csv_cache_follows_the_file(tmp_path):
    f = tmp_path / "data.csv"
    pd.DataFrame({"text": ["One two", "Three"], "label": ["a", "b"]}).to_csv(f, index=False)
    tok = CountingTokenizer()
    out, counts = tokenize_csv(f, "text", tok=tok, n_workers=1, progress=False)
    assert counts["xxbos"] == 2
    assert out["text"].tolist() == [["xxbos", "xxmaj", "one", "two"], ["xxbos", "xxmaj", "three"]]
    assert (tmp_path / ".layered_text").is_dir() and tok.seen == 2
    tokenize_csv(f, "text", tok=tok, n_workers=1, progress=False)
    assert tok.seen == 2  # cached
    stat = f.stat()
    os.utime(f, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    tokenize_csv(f, "text", tok=tok, n_workers=1, progress=False)
    assert tok.seen == 4  # the file's time changed: recomputed
    tokenize_csv(f, "text", tok=tok, n_workers=1, progress=False, cache_dir=False)
    assert tok.seen == 6


def test_tokenize_folder_cache_follows_files_and_settings(tmp_path):
    for name, text in [("a.txt", "Hello there"), ("sub/b.txt", "General Kenobi"), ("c.md", "skipped")]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    tok = CountingTokenizer()
    files, toks, counts = tokenize_folder(tmp_path, tok=tok, n_workers=1, progress=False)
    assert [f.name for f in files] == ["a.txt", "b.txt"] and tok.seen == 2
    assert toks == [["xxbos", "xxmaj", "hello", "there"], ["xxbos", "xxmaj", "general", "xxmaj", "kenobi"]]
    assert counts == Counter(t for ts in toks for t in ts)
    assert tokenize_folder(tmp_path, tok=tok, n_workers=1, progress=False)[1] == toks and tok.seen == 2
    (tmp_path / "a.txt").write_text("Hello again")
    stat = (tmp_path / "a.txt").stat()
    os.utime(tmp_path / "a.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert tokenize_folder(tmp_path, tok=tok, n_workers=1, progress=False)[1][0][-1] == "again"
    assert tok.seen == 4
    tokenize_folder(tmp_path, tok=tok, post_rules=[], n_workers=1, progress=False)
    assert tok.seen == 6  # settings changed
    with pytest.raises(TextError, match=r"no \.rst files"):
        tokenize_folder(tmp_path, extensions=[".rst"], progress=False)


def test_sentencepiece_is_set_up_even_when_tokens_are_cached(tmp_path):
    texts = ["the cat sat on the mat", "the dog sat on the log"] * 10
    sp = tokenizers.SentencePieceTokenizer(vocab_sz=40, cache_dir=tmp_path / "spm")
    first = tokenize_texts(texts, tok=sp, n_workers=1, cache_dir=tmp_path, progress=False)
    fresh = tokenizers.SentencePieceTokenizer(vocab_sz=40, cache_dir=tmp_path / "spm")
    assert tokenize_texts(texts, tok=fresh, n_workers=1, cache_dir=tmp_path, progress=False) == first
    assert fresh.model_path == sp.model_path and fresh(["the cat"])[0]


@pytest.mark.slow
def test_spawned_workers(tmp_path):
    script = textwrap.dedent(
        """
        import multiprocessing
        from layered.text.tokenize import tokenize_texts
        if __name__ == "__main__":
            multiprocessing.set_start_method("spawn")
            texts = [f"Text {i} is HERE" for i in range(50)]
            assert tokenize_texts(texts, n_workers=2, progress=False) == tokenize_texts(texts, n_workers=1, progress=False)
            print("same")
        """
    )
    (tmp_path / "run.py").write_text(script)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "run.py")], capture_output=True, text=True, timeout=300
    )
    assert done.stdout.strip() == "same", done.stderr
