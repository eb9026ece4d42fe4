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
import os
import pickle
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


def _work(texts: list[str]) -> list:
    return _tokenize(texts, *_worker)


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

    `n_workers=None` picks `default_workers(len(texts))`; 1 runs in this process.
    """
    from fastprogress.fastprogress import progress_bar

    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise TextError(f"n_workers must be a positive integer or None, got {n_workers!r}")
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
        for _, toks in zip(bar, pool.map(_work, chunks)):
            out += toks
    return out


def _cache_file(cache_dir: Path, source: str) -> Path:
    return Path(cache_dir) / f"tokens-{digest([source])[:20]}.pkl"


def cached(cache_dir: str | Path | None, source: str, key: str, compute: Callable[[], list]) -> list:
    """`compute()`, kept in `cache_dir` under `source` and reused while `key` is unchanged.

    One file per source: a changed key (inputs or settings) recomputes and replaces it. The file
    is written atomically (a temporary file in the same folder, then renamed over).
    """
    if cache_dir is None:
        return compute()
    path = _cache_file(Path(cache_dir), source)
    if path.exists():
        try:
            with open(path, "rb") as f:
                stored = pickle.load(f)
            if stored.get("key") == key:
                return stored["tokens"]
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, KeyError):
            pass  # unreadable or from another version: recompute and replace it
    tokens = compute()
    with atomic_write(path) as f:
        pickle.dump({"key": key, "tokens": tokens}, f, protocol=pickle.HIGHEST_PROTOCOL)
    return tokens
