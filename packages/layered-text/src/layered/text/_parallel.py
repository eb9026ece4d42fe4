"""Running a tokenizer over many texts: the rules, worker processes, a progress bar, a disk cache.

A tokenizer here is any callable mapping a list of texts to an iterable of token lists. It may
also have `setup(texts)` (trained on the prepared texts before use, e.g. SentencePiece) and a
`cache_key` string naming its settings.

With `n_workers` k > 1 the main process and k - 1 worker processes share the texts, chunk by
chunk: the workers take chunks from the front, the main process from the back, until they meet;
each worker then sends all its token lists back in one message, as they are: pickle writes a
string object once however many lists hold it, and spaCy's tokens are shared objects (see
`SpacyTokenizer`), so this costs the worker less than recoding them and the main process no
more to read. On Linux the workers are forked after
the main process has tokenized the first chunk, so they start with the tokenizer built and its
caches warm (spaCy learns how to split each distinct word once per process: the common words are
then learnt once, not once per worker); elsewhere they are started by multiprocessing's
default method and get the tokenizer and rules pickled. The tokenizer and rules are checked to
pickle either way, so code that runs on Linux also runs under `spawn`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import pickle
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from layered.core.atomic import atomic_write
from layered.core.item_errors import mark_step, note_batch_error, note_item_error
from layered.text.errors import TextError

__all__ = ["cached", "default_workers", "digest", "prepare", "run_tokenizer", "settings_key", "tokenize_one"]

# below this many texts per worker, starting processes costs more than it saves
_MIN_TEXTS_PER_WORKER = 1000
# chunks per process: more balance the processes' ends better, each costs a lock and a little
# bookkeeping; a chunk of `_MAX_CHUNK` texts takes a few tenths of a second
_CHUNKS_PER_WORKER = 16
_MAX_CHUNK = 1000
_CACHE_VERSION = "layered-text-tokens-1"


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
    texts: Sequence[str],
    start: int,
    tok: Callable,
    rules: Sequence[Callable],
    post_rules: Sequence[Callable],
    name_items: bool = True,
) -> list:
    """The token lists of `texts`, items `start`, `start + 1`, ... of the whole run.

    An exception gets a note naming the text and the rule that raised it (the chunk's texts when
    the tokenizer raised); with `name_items=False` it only records the rule, for the note of a
    pipeline that knows the item better.
    """

    def name(e: Exception, i: int | None, step: str) -> None:
        if not name_items:
            mark_step(e, step)
        elif i is None:
            note_batch_error(e, list(range(start, start + len(texts))), step)
        else:
            note_item_error(e, start + i, texts[i], step)

    prepared = []
    for i, t in enumerate(texts):
        try:
            for r in rules:
                t = r(t)
        except Exception as e:
            name(e, i, f"the text rule {_name(r)}")
            raise
        prepared.append(t)
    try:
        docs = list(tok(prepared))
    except Exception as e:
        name(e, None, f"the tokenizer {_name(tok)}")
        raise
    if len(docs) != len(texts):
        raise TextError(f"the tokenizer {_name(tok)} returned {len(docs)} token lists for {len(texts)} texts")
    out = []
    for i, toks in enumerate(docs):
        toks = list(toks)
        try:
            for r in post_rules:
                toks = r(toks)
        except Exception as e:
            name(e, i, f"the post rule {_name(r)}")
            raise
        out.append(toks)
    return out


def tokenize_one(text: str, tok: Callable, rules: Sequence[Callable], post_rules: Sequence[Callable]) -> list:
    """The tokens of one `text`, in this process; an exception records the failing rule for its pipeline's note."""
    return _tokenize([text], 0, tok, rules, post_rules, name_items=False)[0]


def _check_picklable(tok: Any, rules: Sequence, post_rules: Sequence) -> None:
    for what, obj in (("tokenizer", tok), ("rules", rules), ("post_rules", post_rules)):
        try:
            pickle.dumps(obj)
        except Exception as e:
            raise TextError(
                f"the {what} ({_name(obj)}) cannot be sent to worker processes ({type(e).__name__}: {e}); "
                "use module-level functions and classes, or n_workers=1"
            ) from e


def _chunks(texts: list[str], n_workers: int) -> list[tuple[int, list[str]]]:
    """(start, texts) pieces of about equal size, about `_CHUNKS_PER_WORKER` per process."""
    size = max(1, min(_MAX_CHUNK, -(-len(texts) // (n_workers * _CHUNKS_PER_WORKER))))
    return [(i, texts[i : i + size]) for i in range(0, len(texts), size)]


def _context() -> Any:
    """multiprocessing's 'fork' context on Linux (workers inherit the ready tokenizer), its default elsewhere."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _take(bounds: Any, from_back: bool) -> int | None:
    """The next chunk to do (workers take from the front, the main process from the back), or None."""
    with bounds.get_lock():
        lo, hi = bounds[0], bounds[1]
        if lo >= hi:
            return None
        if from_back:
            bounds[1] = hi - 1
            return hi - 1
        bounds[0] = lo + 1
        return lo


class _WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker process (set as the re-raised exception's cause)."""


def _worker_main(
    conn: Any, bounds: Any, chunks: list, tok: Callable, rules: Sequence, post_rules: Sequence
) -> None:
    """A worker process: tokenize chunks from the front until none is left, then send them all back."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)  # a forked child must not use the parent's thread pool, nor need one
    done, docs = [], []
    try:
        while (i := _take(bounds, from_back=False)) is not None:
            start, texts = chunks[i]
            docs += _tokenize(texts, start, tok, rules, post_rules)
            done.append(i)
        message = ("ok", done, docs)
    except BaseException as e:
        with bounds.get_lock():  # the other processes stop after their current chunk
            bounds[0] = bounds[1]
        message = ("error", e, traceback.format_exc())
        try:
            pickle.dumps(e)
        except Exception:
            message = ("error", TextError(f"{type(e).__name__}: {e}"), traceback.format_exc())
    conn.send(message)
    conn.close()


def _run_in_processes(
    chunks: list, tok: Callable, rules: Sequence, post_rules: Sequence, n_workers: int, tick: Callable
) -> list[list]:
    """The token lists of each chunk: chunk 0 here, the rest shared by this process and `n_workers - 1` others."""
    # done here first, chunk 0 builds the tokenizer and warms its caches (spaCy learns each word's
    # split once): forked workers inherit both, instead of each learning the common words again
    results: list = [_tokenize(chunks[0][1], 0, tok, rules, post_rules)]
    results += [None] * (len(chunks) - 1)
    ctx = _context()
    bounds = ctx.Array("q", [1, len(chunks)])
    workers, conns = [], []
    try:
        for _ in range(min(n_workers, len(chunks)) - 1):
            receive, send = ctx.Pipe(duplex=False)
            worker = ctx.Process(
                target=_worker_main, args=(send, bounds, chunks, tok, rules, post_rules), daemon=True
            )
            worker.start()
            send.close()
            workers.append(worker)
            conns.append(receive)
        while (i := _take(bounds, from_back=True)) is not None:
            results[i] = _tokenize(chunks[i][1], chunks[i][0], tok, rules, post_rules)
            tick(bounds[0] + len(chunks) - bounds[1])
        for worker, conn in zip(workers, conns):
            try:
                message = conn.recv()
            except EOFError:
                worker.join()
                raise TextError(
                    f"a worker process ended (exit code {worker.exitcode}) without sending its tokens"
                ) from None
            if message[0] == "error":
                _, error, remote = message
                raise error from _WorkerTraceback(f"\n\nIn a worker process:\n{remote}")
            _, done, sent = message
            docs = iter(sent)
            for i in done:
                results[i] = list(itertools.islice(docs, len(chunks[i][1])))
    except BaseException:
        with bounds.get_lock():
            bounds[0] = bounds[1]
        for worker in workers:
            worker.terminate()
        raise
    finally:
        for worker in workers:
            worker.join()
        for conn in conns:
            conn.close()
    return results


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
    torch's `num_workers=0`). With `k` > 1, this process and `k - 1` worker processes share the
    texts, chunk by chunk. An exception names the text (or chunk of texts) and the rule that raised
    it, and no worker process outlives the call.
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
    chunks = _chunks(texts, n_workers)
    steps = iter(progress_bar(range(len(chunks)), leave=False) if progress else range(len(chunks)))
    shown = -1

    def tick(n_done: int) -> None:
        nonlocal shown
        while shown < n_done:  # one step of the bar per chunk done; one more ends it
            next(steps, None)
            shown += 1

    tick(0)
    if n_workers == 1:
        results = []
        for start, chunk in chunks:
            results.append(_tokenize(chunk, start, tok, rules, post_rules))
            tick(len(results))
    else:
        _check_picklable(tok, rules, post_rules)
        results = _run_in_processes(chunks, tok, rules, post_rules, n_workers, tick)
        tick(len(chunks))
    return list(itertools.chain.from_iterable(results))


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
