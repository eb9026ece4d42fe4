"""Running a tokenizer over many texts: the rules, worker processes, a progress bar, a disk cache.

A tokenizer here is any callable mapping a list of texts to an iterable of token lists. It may
also have `setup(texts)` (trained on the prepared texts before use, e.g. SentencePiece) and a
`cache_key` string naming its settings.

Workers are processes of multiprocessing's default start method. Only picklable, module-level
objects cross to them (the tokenizer and rules go once, at worker start), so the same code runs
under `spawn`; the tokenizer and rules are checked to pickle before any worker starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import pickle
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from layered.core.atomic import atomic_write
from layered.text.errors import TextError

__all__ = ["cached", "default_workers", "digest", "prepare", "run_tokenizer", "settings_key"]

# below this many texts per worker, starting processes costs more than it saves
_MIN_TEXTS_PER_WORKER = 1000
_CHUNKS_PER_WORKER = 4
_CACHE_VERSION = "layered-text-tokens-1"
# A worker sends its token lists back as one string, the tokens joined by this separator, and
# the number of tokens of each text: one long string pickles at memory speed, where a million
# short ones cost the main process more time to unpickle than the workers save.
_SEPARATOR = "\x00"

_worker: tuple | None = None  # (tok, rules, post_rules) inside a worker process


def default_workers(n_texts: int) -> int:
    """Processes used for `n_texts` when `n_workers` is None: one per usable core, fewer for few texts."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, n_texts // _MIN_TEXTS_PER_WORKER))


def _name(f: Any) -> str:
    key = getattr(f, "cache_key", None)
    if isinstance(key, str):
        return key
    if hasattr(f, "__qualname__") and hasattr(f, "__module__"):
        return f"{f.__module__}.{f.__qualname__}"
    return repr(f)


def settings_key(tok: Any, rules: Sequence[Callable], post_rules: Sequence[Callable]) -> str:
    """Text naming a tokenizer and its rules: part of every cache key."""
    return "|".join([_CACHE_VERSION, _name(tok), *map(_name, rules), "post", *map(_name, post_rules)])


def digest(parts: Iterable[str]) -> str:
    """A hex digest of strings (each delimited, so ["ab", "c"] and ["a", "bc"] differ)."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        data = p.encode("utf8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def prepare(texts: Iterable[str], rules: Sequence[Callable]) -> list[str]:
    """The texts with each text rule applied in order."""
    out = []
    for t in texts:
        for r in rules:
            t = r(t)
        out.append(t)
    return out


def _tokenize(
    texts: list[str], tok: Callable, rules: Sequence[Callable], post_rules: Sequence[Callable]
) -> list:
    out = []
    for toks in tok(prepare(texts, rules)):
        toks = list(toks)
        for r in post_rules:
            toks = r(toks)
        out.append(toks)
    if len(out) != len(texts):
        raise TextError(f"the tokenizer {_name(tok)} returned {len(out)} token lists for {len(texts)} texts")
    return out


def _init_worker(tok: Callable, rules: Sequence[Callable], post_rules: Sequence[Callable]) -> None:
    global _worker
    _worker = (tok, rules, post_rules)


def _work(texts: list[str]) -> tuple[str, list[int]] | list:
    return _pack(_tokenize(texts, *_worker))


def _pack(docs: list) -> tuple[str, list[int]] | list:
    """(the tokens of `docs` joined by `_SEPARATOR`, each doc's token count), or `docs` itself.

    `docs` comes back unchanged when its tokens are not all strings or one holds the separator.
    """
    lengths = [len(d) for d in docs]
    try:
        joined = _SEPARATOR.join(itertools.chain.from_iterable(docs))
    except TypeError:
        return docs
    return (joined, lengths) if joined.count(_SEPARATOR) == sum(lengths) - 1 else docs


def _unpack(packed: tuple[str, list[int]] | list) -> list:
    """The token lists `_pack` packed."""
    if isinstance(packed, list):
        return packed
    joined, lengths = packed
    flat = joined.split(_SEPARATOR)
    ends = list(itertools.accumulate(lengths))
    return [flat[a:b] for a, b in zip([0, *ends[:-1]], ends)]


def _check_picklable(tok: Any, rules: Sequence, post_rules: Sequence) -> None:
    for what, obj in (("tokenizer", tok), ("rules", rules), ("post_rules", post_rules)):
        try:
            pickle.dumps(obj)
        except Exception as e:
            raise TextError(
                f"the {what} ({_name(obj)}) cannot be sent to worker processes ({type(e).__name__}: {e}); "
                "use module-level functions and classes, or n_workers=1"
            ) from e


def _chunks(texts: list[str], n: int) -> list[list[str]]:
    size = max(1, -(-len(texts) // n))
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def run_tokenizer(
    texts: Sequence[str],
    tok: Callable,
    rules: Sequence[Callable],
    post_rules: Sequence[Callable],
    n_workers: int | None = None,
    progress: bool = True,
) -> list[list[str]]:
    """Token lists of `texts`: text rules, then `tok`, then post rules; over `n_workers` processes.

    `n_workers=None` picks `default_workers(len(texts))`; 0 or 1 runs in this process (0 as in
    torch's `num_workers=0`).
    """
    from fastprogress.fastprogress import progress_bar

    if n_workers is not None and (
        not isinstance(n_workers, int) or isinstance(n_workers, bool) or n_workers < 0
    ):
        raise TextError(
            f"n_workers must be an integer >= 0 (0 or 1: in this process) or None, got {n_workers!r}"
        )
    n_workers = 1 if n_workers == 0 else n_workers
    texts = list(texts)
    if not texts:
        return []
    n_workers = default_workers(len(texts)) if n_workers is None else min(n_workers, len(texts))
    chunks = _chunks(texts, n_workers * _CHUNKS_PER_WORKER)
    bar = progress_bar(range(len(chunks)), leave=False) if progress else range(len(chunks))
    out: list[list[str]] = []
    if n_workers == 1:
        for _, chunk in zip(bar, chunks):
            out += _tokenize(chunk, tok, rules, post_rules)
        return out
    _check_picklable(tok, rules, post_rules)
    with ProcessPoolExecutor(n_workers, initializer=_init_worker, initargs=(tok, rules, post_rules)) as pool:
        for _, packed in zip(bar, pool.map(_work, chunks)):
            out += _unpack(packed)
    return out


# The token cache: one file per source, data only, readable without running anything from it.
#
#   line 1   JSON header: {"format": _CACHE_FORMAT, "key": ..., "vocab_bytes": V, "n_ids": N, "n_docs": D}
#   V bytes  the distinct tokens, a JSON list of strings, in order of first appearance
#   4N bytes each token of every document, as its index in that list (little-endian uint32)
#   8D bytes the number of tokens of each document (little-endian uint64)
#
# The key is compared as soon as the header is read: a file for other inputs or settings is never
# read further. Every size and index is checked before use; anything unexpected ignores the file.
_CACHE_FORMAT = "layered-text-tokens-2"
_CACHE_SUFFIX = ".ltok"
_MAX_HEADER_BYTES = 1 << 20


class _BadCache(Exception):
    """The cache file is not one this version wrote for this key: ignore it and rebuild."""


def _cache_file(cache_dir: Path, source: str) -> Path:
    return Path(cache_dir) / f"tokens-{digest([source])[:20]}{_CACHE_SUFFIX}"


def _encode_tokens(key: str, tokens: list) -> list[bytes] | None:
    """The cache file's bytes for `tokens`, in parts; None if they are not lists of strings."""
    import numpy as np

    index: dict[str, int] = {}
    ids: list[int] = []
    lengths: list[int] = []
    try:
        for doc in tokens:
            n = 0
            for t in doc:
                i = index.get(t)
                if i is None:
                    i = index[t] = len(index)
                ids.append(i)
                n += 1
            lengths.append(n)
    except TypeError:  # a document that is not iterable, or a token that cannot be hashed
        return None
    if not all(type(t) is str for t in index):
        return None
    vocab = json.dumps(list(index), ensure_ascii=False).encode("utf8", "surrogatepass")
    header = {
        "format": _CACHE_FORMAT,
        "key": key,
        "vocab_bytes": len(vocab),
        "n_ids": len(ids),
        "n_docs": len(lengths),
    }
    return [
        json.dumps(header, ensure_ascii=True).encode("ascii") + b"\n",
        vocab,
        np.asarray(ids, dtype="<u4").tobytes(),
        np.asarray(lengths, dtype="<u8").tobytes(),
    ]


def _read_cache(path: Path, key: str) -> list[list[str]]:
    """The token lists in the cache file `path` if it was written for `key`; else `_BadCache`."""
    import numpy as np

    with open(path, "rb") as f:
        line = f.readline(_MAX_HEADER_BYTES)
        if not line.endswith(b"\n"):
            raise _BadCache("no header line")
        try:
            header = json.loads(line)
        except ValueError as e:
            raise _BadCache(f"header is not JSON: {e}") from e
        if not isinstance(header, dict) or header.get("format") != _CACHE_FORMAT:
            raise _BadCache("another format")
        if header.get("key") != key:
            raise _BadCache("written for other inputs or settings")
        sizes = [header.get(k) for k in ("vocab_bytes", "n_ids", "n_docs")]
        if not all(type(n) is int and n >= 0 for n in sizes):
            raise _BadCache(f"bad sizes {sizes}")
        n_vocab_bytes, n_ids, n_docs = sizes
        expected = len(line) + n_vocab_bytes + 4 * n_ids + 8 * n_docs
        if os.fstat(f.fileno()).st_size != expected:
            raise _BadCache(f"{os.fstat(f.fileno()).st_size} bytes where the header says {expected}")
        body = f.read()
    if len(body) != expected - len(line):
        raise _BadCache("changed while read")
    try:
        vocab = json.loads(body[:n_vocab_bytes].decode("utf8", "surrogatepass"))
    except ValueError as e:
        raise _BadCache(f"vocabulary is not JSON: {e}") from e
    if type(vocab) is not list or not all(type(t) is str for t in vocab):
        raise _BadCache("vocabulary is not a list of strings")
    ids = np.frombuffer(body, dtype="<u4", count=n_ids, offset=n_vocab_bytes)
    lengths = np.frombuffer(body, dtype="<u8", count=n_docs, offset=n_vocab_bytes + 4 * n_ids)
    if n_ids and int(ids.max()) >= len(vocab):
        raise _BadCache("a token index past the vocabulary")
    ends = list(itertools.accumulate(lengths.tolist()))  # Python integers: no overflow
    if (ends[-1] if ends else 0) != n_ids:
        raise _BadCache("document lengths do not add up to the tokens")
    flat = np.array(vocab, dtype=object)[ids].tolist() if n_ids else []
    return [flat[a:b] for a, b in zip([0, *ends[:-1]], ends)]


def cached(cache_dir: str | Path | None, source: str, key: str, compute: Callable[[], list]) -> list:
    """`compute()`, kept in `cache_dir` under `source` and reused while `key` is unchanged.

    One file per source, holding only data (a JSON header with the key, the distinct tokens as
    JSON, their indices as integers): reading it never runs code. The key is compared before
    anything else is read; a file with another key, or corrupt, truncated or foreign, is ignored,
    and the freshly computed tokens replace it, written atomically. Tokens that are not lists of
    strings are returned uncached.
    """
    if cache_dir is None:
        return compute()
    path = _cache_file(Path(cache_dir), source)
    try:
        return _read_cache(path, key)
    except (OSError, _BadCache, ValueError, OverflowError):
        pass  # absent, unreadable, stale or not ours: recompute and replace it
    tokens = compute()
    parts = _encode_tokens(key, tokens)
    if parts is None:
        warnings.warn(f"tokens for {source!r} are not lists of strings: not cached in {path}", stacklevel=2)
        return tokens
    with atomic_write(path) as f:
        for part in parts:
            f.write(part)
    return tokens
