"""Tokenized corpora on disk: a folder of text files tokenized into a folder of token files, and
tokenized tables saved as CSV and read back.

```python
files, counter = tokenize_files(path / "texts")          # -> path / "texts_tok"
df, counter = tokenize_csv(path / "reviews.csv", "text")
save_tokenized_csv(df, path / "reviews_tok.csv")
df, counter = load_tokenized_csv(path / "reviews_tok.csv")
```
Tokens are stored as JSON lists of strings: a token may hold spaces, newlines or tabs (spaCy keeps
runs of whitespace as tokens), which joining them with spaces would lose. Everything written
here is plain data (JSON, CSV), written atomically; reading it runs no code and checks that each
token list is a list of strings, naming the file and row that is not.
"""

from __future__ import annotations

import json
from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any

from layered.core.atomic import atomic_write
from layered.core.collection import L
from layered.core.delegation import delegates
from layered.text.errors import TextError
from layered.text.tokenize import tokenize_folder

__all__ = ["load_tokenized_csv", "read_tokens", "save_tokenized_csv", "tokenize_files"]

_TOKENS_SUFFIX = ".json"  # added to a text file's name to name its token file


def _write_json(obj: Any, file: Path) -> None:
    with atomic_write(file, "w", encoding="utf8") as f:
        json.dump(obj, f, ensure_ascii=False)


def _token_list(value: Any, where: str) -> list[str]:
    if not (isinstance(value, list) and all(isinstance(t, str) for t in value)):
        raise TextError(
            f"{where}: expected a JSON list of token strings, found {type(value).__name__} {value!r:.80}"
        )
    return value


def read_tokens(file: str | Path) -> list[str]:
    """The token list of one token file written by `tokenize_files`."""
    file = Path(file)
    try:
        value = json.loads(file.read_text(encoding="utf8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TextError(f"{file}: cannot read its tokens ({e})") from e
    return _token_list(value, str(file))


@delegates(tokenize_folder, but="path")
def tokenize_files(
    path: str | Path,
    output_dir: str | Path | None = None,
    **kwargs: Any,
) -> tuple[L, Counter]:
    """Tokenize the text files under `path` into token files under `output_dir`; returns them and the token counts.

    The files are found and tokenized by `tokenize_folder` (same `extensions`, `folders`, `tok`,
    rules, `n_workers` and token cache). Each `path/<sub>/<name>` becomes
    `output_dir/<sub>/<name>.json`, a JSON list of its tokens (`read_tokens` reads one back);
    `output_dir` also gets `counter.json` (each token's count over all files) and `lengths.json`
    (each file's number of tokens, by its path relative to `path`). `output_dir` defaults to
    `<path>_tok` beside `path`, and must not lie inside `path`.
    """
    path = Path(path)
    out = Path(output_dir) if output_dir is not None else path.parent / f"{path.name}_tok"
    if out.resolve() == path.resolve() or path.resolve() in out.resolve().parents:
        raise TextError(
            f"tokenize_files: output_dir {out} is inside the folder of texts {path}; the token files "
            "would mix with the texts. Give a folder outside it"
        )
    files, toks, counter = tokenize_folder(path, **kwargs)
    written, lengths = [], {}
    for file, tokens in zip(files, toks):
        relative = file.relative_to(path)
        target = out / relative.with_name(relative.name + _TOKENS_SUFFIX)
        _write_json(list(tokens), target)
        written.append(target)
        lengths[relative.as_posix()] = len(tokens)
    _write_json(dict(counter.most_common()), out / "counter.json")
    _write_json(lengths, out / "lengths.json")
    return L(written), counter


def save_tokenized_csv(df: Any, fname: str | Path, tok_text_col: str = "text") -> Path:
    """Write a tokenized DataFrame (from `tokenize_df` or `tokenize_csv`) to a CSV file, atomically.

    The token lists of `tok_text_col` are written as JSON lists; the other columns as they are.
    """
    if tok_text_col not in df.columns:
        raise TextError(
            f"save_tokenized_csv: no column {tok_text_col!r} of token lists (columns: {list(df.columns)})"
        )
    for row, value in zip(df.index, df[tok_text_col]):
        _token_list(value, f"save_tokenized_csv: row {row!r}, column {tok_text_col!r}")
    out = df.copy()
    out[tok_text_col] = [json.dumps(t, ensure_ascii=False) for t in df[tok_text_col]]
    fname = Path(fname)
    with atomic_write(fname, "w", encoding="utf8", newline="") as f:
        out.to_csv(f, index=False)
    return fname


def load_tokenized_csv(fname: str | Path, tok_text_col: str = "text") -> tuple[Any, Counter]:
    """Read a CSV written by `save_tokenized_csv`: the DataFrame with its token lists, and the token counts.

    A cell of `tok_text_col` that is not a JSON list of strings, or that disagrees with the
    `{tok_text_col}_length` column, raises a `TextError` naming the file, the row and the column.
    """
    import pandas as pd

    fname = Path(fname)
    if not fname.is_file():
        raise TextError(f"load_tokenized_csv: {fname} is not a file")
    df = pd.read_csv(fname, dtype={tok_text_col: str})
    if tok_text_col not in df.columns:
        raise TextError(
            f"load_tokenized_csv({fname.name}): no column {tok_text_col!r} of token lists "
            f"(columns: {list(df.columns)})"
        )
    toks = []
    for row, cell in zip(df.index, df[tok_text_col]):
        where = f"{fname.name}, row {row}, column {tok_text_col!r}"
        try:
            toks.append(_token_list(json.loads(cell), where))
        except (TypeError, json.JSONDecodeError) as e:
            raise TextError(
                f"{where}: not a JSON list of tokens ({e}); was the file written by save_tokenized_csv?"
            ) from e
    length_col = f"{tok_text_col}_length"
    if length_col in df.columns:
        for row, n, t in zip(df.index, df[length_col], toks):
            if int(n) != len(t):
                raise TextError(
                    f"{fname.name}, row {row}: {length_col} says {n} tokens, the list has {len(t)}"
                )
    df[tok_text_col] = toks
    return df, Counter(chain.from_iterable(toks))
