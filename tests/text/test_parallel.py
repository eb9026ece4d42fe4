"""Worker processes of `run_tokenizer`: the same tokens in the same order, the work really shared,
a failing text named wherever it failed, and no process left behind."""

import multiprocessing
import os
import sys
import time

import pytest
import torch

from layered.text import _parallel
from layered.text.rules import DEFAULT_RULES
from layered.text.tokenize import tokenize_texts

TEXTS = [
    "Ünïcode CAFÉ — naïve 🙂🙂🙂🙂 text",
    "",
    "   ",
    "Plain words here.",
    *[f"Text {i} about THE World {'again ' * (i % 3)}" for i in range(200)],
]
PARENT = os.getpid()
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers, /proc")

# Set by a worker when it runs a rule; this process waits for it in the text that starts with
# "wait" (its first chunk after starting the worker), so a worker surely gets chunks of its own.
worker_ran = multiprocessing.get_context("fork").Event() if sys.platform.startswith("linux") else None
never = multiprocessing.get_context("fork").Event() if sys.platform.startswith("linux") else None


def _wait_for_worker(t: str) -> None:
    if os.getpid() != PARENT:
        worker_ran.set()
    elif t.startswith("wait"):
        assert worker_ran.wait(60), "no worker ran a rule in 60 s"


def tag_process(t: str) -> str:
    """A text rule that prefixes which process did the text and how many torch threads it had."""
    _wait_for_worker(t)
    return f"pid{os.getpid()} threads{torch.get_num_threads()} {t}"


def fail_in_worker(t: str) -> str:
    """A text rule that raises on 'boom' in a worker."""
    _wait_for_worker(t)
    if "boom" in t and os.getpid() != PARENT:
        raise ValueError(f"a worker cannot take {t!r}")
    return t


def fail_here(t: str) -> str:
    """A text rule that raises on 'boom' in this process; in a worker it blocks (until terminated)."""
    if os.getpid() != PARENT:
        never.wait(120)
    elif "boom" in t:
        raise ValueError(f"this process cannot take {t!r}")
    return t


def word_lengths(texts: list[str]) -> list[list[int]]:
    """A tokenizer whose tokens are not strings: they travel back as lists."""
    return [[len(w) for w in t.split()] for t in texts]


def children() -> set[int]:
    """The processes whose parent is this one, zombies included (from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == PARENT:
                found.add(int(entry))
    return found


@pytest.fixture
def waiting():
    """`TEXTS` with the last text (this process's first chunk after the fork) starting with 'wait'."""
    worker_ran.clear()
    before, threads = children(), torch.get_num_threads()
    torch.set_num_threads(2)
    yield [*TEXTS[:-1], "wait " + TEXTS[-1]]
    torch.set_num_threads(threads)
    assert children() == before, "a worker process outlived the call"


@linux_only
@pytest.mark.parametrize("n_workers", [0, 1, 2, 3])
def test_same_tokens_in_order_with_any_workers(n_workers):
    expected = tokenize_texts(TEXTS, n_workers=0, progress=False)
    before = children()
    assert tokenize_texts(TEXTS, n_workers=n_workers, progress=n_workers == 2) == expected
    assert expected[1] == ["xxbos"] and expected[0][:3] == ["xxbos", "xxmaj", "ünïcode"]
    assert tokenize_texts(TEXTS, tok=word_lengths, n_workers=n_workers, progress=False) == [
        ["xxbos", *(len(w) for w in _parallel.prepare([t], DEFAULT_RULES)[0].split())] for t in TEXTS
    ]
    assert children() == before


@linux_only
def test_this_process_and_a_worker_share_the_texts(waiting):
    tokens = tokenize_texts(waiting, rules=[*DEFAULT_RULES, tag_process], n_workers=2, progress=False)
    who = {(d[1], d[2]) for d in tokens}
    assert (f"pid{PARENT}", "threads2") in who  # this process's threads are left alone
    workers = {pid for pid, threads in who if pid != f"pid{PARENT}"}
    assert len(workers) == 1 and {t for p, t in who if p in workers} == {"threads1"}
    # this process did the first chunk before forking, then chunks from the back; the worker from the front
    first_of_worker = _parallel._chunks(waiting, 2)[1][0]
    assert tokens[0][1] == tokens[first_of_worker - 1][1] == tokens[-1][1] == f"pid{PARENT}"
    assert tokens[first_of_worker][1] in workers
    expected = tokenize_texts(waiting, n_workers=0, progress=False)
    assert [[d[0], *d[3:]] for d in tokens] == expected


@linux_only
def test_a_text_failing_in_a_worker_is_named(waiting):
    i = _parallel._chunks(waiting, 2)[1][0]  # the first text of the chunk a worker takes first
    waiting[i] = "boom in the worker's first chunk"
    with pytest.raises(ValueError, match="a worker cannot take") as info:
        tokenize_texts(waiting, rules=[fail_in_worker], n_workers=2, progress=False)
    assert f"item {i} ({waiting[i]!r}) failed in the text rule" in info.value.__notes__[0]
    assert "fail_in_worker" in info.value.__notes__[0]
    assert "In a worker process" in str(info.value.__cause__)


@linux_only
def test_a_text_failing_in_this_process_is_named_and_the_workers_stop():
    texts = [*TEXTS[:-1], "boom at the end"]
    before, start = children(), time.monotonic()
    with pytest.raises(ValueError, match="this process cannot take") as info:
        tokenize_texts(texts, rules=[fail_here], n_workers=3, progress=False)
    assert info.value.__notes__ == [
        f"layered: item {len(texts) - 1} ('boom at the end') failed in the text rule "
        f"{fail_here.__module__}.fail_here"
    ]
    assert children() == before and time.monotonic() - start < 60  # the blocked workers were ended


def test_chunks_cover_the_texts_in_order():
    texts = [str(i) for i in range(1001)]
    chunks = _parallel._chunks(texts, 2)
    assert [t for _, c in chunks for t in c] == texts
    assert all(texts[start] == c[0] for start, c in chunks)
    assert len(chunks) == 2 * _parallel._CHUNKS_PER_WORKER
    assert {len(c) for _, c in chunks[:-1]} == {len(chunks[0][1])}  # the first (done before forking) too


@pytest.mark.slow
def test_spawned_workers_give_the_same_tokens(monkeypatch):
    monkeypatch.setattr(_parallel, "_context", lambda: multiprocessing.get_context("spawn"))
    assert tokenize_texts(TEXTS, n_workers=2, progress=False) == tokenize_texts(
        TEXTS, n_workers=0, progress=False
    )
