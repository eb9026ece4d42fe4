"""Tokenize many texts at once: lists, DataFrames, CSV files and folders of text files.

Each function applies the text rules, the tokenizer (default `SpacyTokenizer()`) and the post
rules, over `n_workers` processes:

- `n_workers=None`: one process per usable CPU core, but fewer (down to this process alone) when
  there are under 1,000 texts per process, where starting processes costs more than it saves;
- `n_workers=0` or `1`: in this process; `n_workers=k`: `k` processes.

With `k` processes, this process and `k - 1` workers share the texts chunk by chunk. On Linux the
workers are forked after this process has built the tokenizer, so they start with it ready;
elsewhere they start by multiprocessing's default method (there, call the functions under
`if __name__ == "__main__":` in a script). The tokenizer and rules must pickle either way: a
lambda or local function as tokenizer or rule needs `n_workers=1`. An exception raised by a rule
names the text (by index) and the rule; no worker process outlives a call, even a failing one.

With `cache_dir`, the tokens are kept on disk and reused while the inputs and settings are
unchanged: texts and DataFrames are recognised by a digest of their contents, CSV files and
folders by their files' paths, sizes and modification times. A change recomputes and replaces
the cached tokens. A tokenizer with `setup` (SentencePiece) is set up on the prepared texts even
when the tokens come from the cache, so it can tokenize new texts afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from layered.core.collection import L
from layered.data.getters import get_files
from layered.text._parallel import cached, digest, prepare, run_tokenizer, settings_key
from layered.text._sources import check_columns, frame_texts, read_text
from layered.text.errors import TextError
from layered.text.rules import DEFAULT_POST_RULES, DEFAULT_RULES
from layered.text.tokenizers import SpacyTokenizer

__all__ = ["tokenize_csv", "tokenize_df", "tokenize_folder", "tokenize_texts"]


def _tokens(
    read: Callable[[], list[str]],
    source: str,
    stamp: str,
    tok: Callable | None,
    rules: Sequence[Callable] | None,
    post_rules: Sequence[Callable] | None,
    n_workers: int | None,
    cache_dir: str | Path | None,
    progress: bool,
) -> list[list[str]]:
    """Tokens of the texts `read()` gives, cached under `source` while `stamp` and the settings hold."""
    tok = SpacyTokenizer() if tok is None else tok
    rules = list(DEFAULT_RULES if rules is None else rules)
    post_rules = list(DEFAULT_POST_RULES if post_rules is None else post_rules)
    texts = None
    run_rules = rules
    if hasattr(tok, "setup"):
        # a trained tokenizer must learn even when the tokens come from the cache; the workers
        # then get the prepared texts and need not apply the rules again
        texts, run_rules = prepare(read(), rules), []
        tok.setup(texts)
    key = f"{stamp}|{settings_key(tok, rules, post_rules)}"

    def compute() -> list[list[str]]:
        return run_tokenizer(
            texts if texts is not None else read(), tok, run_rules, post_rules, n_workers, progress
        )

    return cached(cache_dir, source, key, compute)


def tokenize_texts(
    texts: Iterable[str],
    tok: Callable | None = None,
    rules: Sequence[Callable] | None = None,
    post_rules: Sequence[Callable] | None = None,
    n_workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> list[list[str]]:
    """The token list of each text (see the module doc for `n_workers` and `cache_dir`)."""
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TextError(f"tokenize_texts: text {i} is {type(t).__name__} {t!r}, expected a string")
    content = digest(texts) if cache_dir is not None else ""  # it only names a cache entry
    return _tokens(
        lambda: texts, f"texts:{content}", content, tok, rules, post_rules, n_workers, cache_dir, progress
    )


def _text_cols(df: Any, text_cols: Any) -> list:
    cols = list(text_cols) if isinstance(text_cols, (list, tuple)) else [text_cols]
    if not cols:
        raise TextError("no text columns given")
    # an int is a position unless the table has a column of that name
    return [
        df.columns[c] if isinstance(c, int) and c not in df.columns and c < len(df.columns) else c
        for c in cols
    ]


def _with_tokens(df: Any, text_cols: list, toks: list, tok_text_col: str) -> tuple[Any, Counter]:
    out = df.drop(columns=[c for c in text_cols if c != tok_text_col]).copy()
    out[tok_text_col] = toks
    out[f"{tok_text_col}_length"] = [len(t) for t in toks]
    return out, Counter(chain.from_iterable(toks))


def tokenize_df(
    df: Any,
    text_cols: Any,
    tok: Callable | None = None,
    rules: Sequence[Callable] | None = None,
    post_rules: Sequence[Callable] | None = None,
    mark_fields: bool | None = None,
    tok_text_col: str = "text",
    n_workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> tuple[Any, Counter]:
    """A copy of `df` whose `text_cols` are replaced by their tokens, and the token counts.

    Several text columns are joined, each preceded by `xxfld i` (unless `mark_fields=False`).
    The copy holds the token lists in `tok_text_col` and their lengths in `{tok_text_col}_length`;
    other columns are kept. A missing column, a NaN or a non-string cell raises a `TextError`
    naming the row and column.
    """
    cols = _text_cols(df, text_cols)
    check_columns(df.columns, cols, "tokenize_df")
    mark = len(cols) > 1 if mark_fields is None else mark_fields
    texts = frame_texts(df, cols, mark)
    toks = tokenize_texts(texts, tok, rules, post_rules, n_workers, cache_dir, progress)
    return _with_tokens(df, cols, toks, tok_text_col)


def tokenize_csv(
    fname: str | Path,
    text_cols: Any,
    tok: Callable | None = None,
    rules: Sequence[Callable] | None = None,
    post_rules: Sequence[Callable] | None = None,
    mark_fields: bool | None = None,
    tok_text_col: str = "text",
    n_workers: int | None = None,
    cache_dir: Any = None,
    progress: bool = True,
    **read_csv_kwargs: Any,
) -> tuple[Any, Counter]:
    """`tokenize_df` of a CSV file (read with `pandas.read_csv(fname, **read_csv_kwargs)`).

    The tokens are cached in `.layered_text` beside the file (`cache_dir=False`: not cached) and
    reused while the file's size and modification time, the columns and the settings hold.
    """
    import pandas as pd

    fname = Path(fname)
    if not fname.is_file():
        raise TextError(f"tokenize_csv: {fname} is not a file")
    cache_dir = fname.parent / ".layered_text" if cache_dir is None else (cache_dir or None)
    df = pd.read_csv(fname, **read_csv_kwargs)
    cols = _text_cols(df, text_cols)
    check_columns(df.columns, cols, f"tokenize_csv({fname.name})")
    mark = len(cols) > 1 if mark_fields is None else mark_fields
    stat = fname.stat()
    stamp = f"{stat.st_size}|{stat.st_mtime_ns}|{cols}|{mark}|{sorted(read_csv_kwargs.items())}"
    toks = _tokens(
        lambda: frame_texts(df, cols, mark),
        f"csv:{fname.resolve()}",
        stamp,
        tok,
        rules,
        post_rules,
        n_workers,
        cache_dir,
        progress,
    )
    return _with_tokens(df, cols, toks, tok_text_col)


def tokenize_folder(
    path: str | Path,
    extensions: Sequence[str] = (".txt",),
    folders: Sequence[str] | None = None,
    tok: Callable | None = None,
    rules: Sequence[Callable] | None = None,
    post_rules: Sequence[Callable] | None = None,
    encoding: str = "utf8",
    n_workers: int | None = None,
    cache_dir: Any = None,
    progress: bool = True,
) -> tuple[L, list[list[str]], Counter]:
    """The text files under `path` (`get_files` with `extensions`, `folders`), their tokens, and the counts.

    The tokens are cached in `path/.layered_text` (`cache_dir=False`: not cached) and reused while
    the files (names, sizes, modification times) and the settings are unchanged.
    """
    path = Path(path)
    files = get_files(path, extensions=extensions, folders=folders)
    if not files:
        raise TextError(f"tokenize_folder: no {', '.join(extensions)} files under {path}")
    cache_dir = path / ".layered_text" if cache_dir is None else (cache_dir or None)
    stats = [(f, f.stat()) for f in files]
    stamp = digest(f"{f.relative_to(path)}|{s.st_size}|{s.st_mtime_ns}|{encoding}" for f, s in stats)
    toks = _tokens(
        lambda: [read_text(f, encoding) for f in files],
        f"folder:{path.resolve()}|{sorted(extensions)}|{folders}",
        stamp,
        tok,
        rules,
        post_rules,
        n_workers,
        cache_dir,
        progress,
    )
    return files, toks, Counter(chain.from_iterable(toks))
