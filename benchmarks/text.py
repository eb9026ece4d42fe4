"""Text: tokenization against spaCy's own tokenizer, LMDataLoader throughput, SentencePiece.

Corpus: 5,000 documents of ~200 words cut from the English prose of Python's own documentation
(`pydoc_data.topics`, shipped with CPython), repeated as needed.
(a) one core: layered's spaCy path (`SpacyTokenizer`, and `tokenize_texts` with the default
    rules) vs spaCy's tokenizer called directly in a loop, and through its `pipe`;
(b) `tokenize_texts` with the default rules in 0, 1 and 2 processes, side by side (target: 2 ≥1.7×
    1), three ways: reusing one `SpacyTokenizer`; as `tokenize_texts(texts)` / `tokenize_df(df,
    col)` run it by default, with a new tokenizer per call (sharing the process's spaCy tokenizer,
    warm after the first call); and as the first call of a new Python process (spaCy built and
    every word learnt during the call); then the CPU seconds of this process and of the workers; and fastai's
    `tokenize_texts` with its default rules on 2 workers (target: layered ≥3× its documents/s;
    fastai is measured only where it is installed, once: it is slow; `pip install fastai` into the
    dev environment adds the row);
(c) LMDataLoader batches per second (bs=64, seq_len=72) over the numericalized corpus;
(d) SentencePiece: training (vocab 8,000, unigram) and encoding time.
Run: python benchmarks/text.py [--repeats N] [--docs N] [--no-fastai] [--workers-only]
(`--workers-only`: section (b) alone.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from pydoc_data.topics import topics

import spacy
import torch
from _timing import fmt_time, print_table, verdict

from layered.text.lm_loader import LMDataLoader
from layered.text.numericalize import Numericalize, make_vocab
from layered.text.tokenize import tokenize_texts
from layered.text.tokenizers import SentencePieceTokenizer, SpacyTokenizer

WORDS_PER_DOC = 200


def corpus(n_docs: int) -> list[str]:
    """`n_docs` texts of ~200 words of real English prose (line breaks kept)."""
    words = "\n".join(topics.values()).split(" ")
    docs, k = [], 0
    while len(docs) < n_docs:
        docs.append(" ".join(words[k : k + WORDS_PER_DOC]))
        k = (k + WORDS_PER_DOC) % (len(words) - WORDS_PER_DOC)
    return docs


def timed(f, repeats: int) -> float:
    """The median seconds of `repeats` calls of `f`."""
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def interleaved(cases: dict, repeats: int) -> dict:
    """Median seconds of each case, the cases run in turn within each repeat, after a warm-up pass.

    The warm-up fills each spaCy tokenizer's own cache of known words, as a long run would.
    """
    for f in cases.values():
        f()
    times: dict = {k: [] for k in cases}
    for r in range(repeats):
        for name in cases if r % 2 == 0 else reversed(list(cases)):
            times[name].append(timed(cases[name], 1))
    return {k: statistics.median(v) for k, v in times.items()}


def fastai_seconds(texts: list[str]) -> float | None:
    """Seconds of one call of fastai's `tokenize_texts` (its default rules) on 2 workers; None without fastai."""
    try:
        from fastai.text.core import tokenize_texts as fastai_tokenize_texts
    except ImportError:
        print("fastai is not installed: its row is left out")
        return None
    fastai_tokenize_texts(texts[:200], n_workers=2)  # warm-up: imports, spaCy's model of English
    return timed(lambda: fastai_tokenize_texts(texts, n_workers=2), 1)


def cpu_seconds(f) -> tuple[float, float]:
    """CPU seconds of one call of `f`: in this process, and in the worker processes it started and ended."""
    import resource

    def used(who: int) -> float:
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    start = used(resource.RUSAGE_SELF), used(resource.RUSAGE_CHILDREN)
    f()
    return used(resource.RUSAGE_SELF) - start[0], used(resource.RUSAGE_CHILDREN) - start[1]


_FIRST_CALL = """
import sys, time
sys.path.insert(0, {here!r})
from text import corpus
from layered.text.tokenize import tokenize_texts
texts = corpus({n_docs})
start = time.perf_counter()
tokenize_texts(texts, n_workers={n_workers}, progress=False)
print(time.perf_counter() - start)
"""


def first_call_seconds(n_docs: int, n_workers: int) -> float:
    """Seconds of the first `tokenize_texts` call of a new Python process (spaCy built, nothing learnt yet)."""
    code = _FIRST_CALL.format(here=str(Path(__file__).parent), n_docs=n_docs, n_workers=n_workers)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def worker_rows(texts: list[str], n_words: int, repeats: int, ours: SpacyTokenizer) -> tuple[list, float]:
    """Section (b): rows of docs/s in 0, 1 and 2 processes, and 2 processes' seconds (one tokenizer reused).

    Three ways of calling: one `SpacyTokenizer` reused; the defaults, a new one per call (it
    shares the process's spaCy tokenizer and the words it learnt, so after a first call it is as
    warm); and the first call of a new process, where spaCy is built and every word is new.
    """

    def layered(n_workers, tok):
        return lambda: tokenize_texts(texts, tok=tok, n_workers=n_workers, progress=False)

    cases = {}
    for kind, tok in (("reused", ours), ("new", None)):
        for n in (0, 1, 2):
            cases[kind, n] = layered(n, tok)
    t = interleaved(cases, repeats)
    firsts: dict = {1: [], 2: []}
    for _ in range(repeats):
        for n in firsts:
            firsts[n].append(first_call_seconds(len(texts), n))
    t.update({("first", n): statistics.median(v) for n, v in firsts.items()})
    rows = []
    for kind, label, counts in (
        ("reused", "one SpacyTokenizer reused", (0, 1, 2)),
        ("new", "defaults: a new SpacyTokenizer per call", (0, 1, 2)),
        ("first", "the first call of a new process", (1, 2)),
    ):
        for n in counts:
            secs = t[kind, n]
            speedup = t[kind, 1] / secs
            rows.append(
                [
                    f"(b) tokenize_texts, default rules, {label}, n_workers={n}",
                    fmt_time(secs),
                    f"{len(texts) / secs:,.0f} docs/s ({n_words / secs:,.0f} words/s)",
                    f"{speedup:.2f}× n_workers=1",
                    "≥1.70×" if n == 2 else "—",
                    ("pass" if speedup >= 1.7 else "FAIL") if n == 2 else "—",
                ]
            )
    notes = []
    for kind, tok in (("reused", ours), ("new", None)):
        cpu1, cpu2 = cpu_seconds(layered(1, tok)), cpu_seconds(layered(2, tok))
        total = cpu2[0] + cpu2[1]
        notes.append(
            f"CPU seconds, {kind} tokenizer: 1 process {cpu1[0]:.2f}; 2 processes: this one {cpu2[0]:.2f} + "
            f"the worker {cpu2[1]:.2f} = {total:.2f} ({total / cpu1[0]:.2f}× the work of 1). The chunks go "
            "to whichever process is free, so on two otherwise idle cores the speed-up is at most "
            f"{cpu1[0] / (total / 2):.2f}×."
        )
    return rows, t["reused", 2], notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--no-fastai", action="store_true", help="skip the fastai comparison")
    parser.add_argument("--workers-only", action="store_true", help="run section (b) alone")
    args = parser.parse_args()
    texts = corpus(args.docs)
    n_words = sum(len(t.split()) for t in texts)
    tokenizer = spacy.blank("en").tokenizer
    ours = SpacyTokenizer()
    header = (
        f"{len(texts):,} docs, {n_words:,} words, spaCy {spacy.__version__}, torch {torch.__version__}, "
        f"median of {args.repeats}, load average {os.getloadavg()[0]:.2f} at the start"
    )
    columns = ["case", "time", "words/s", "ratio", "target", "verdict"]
    if args.workers_only:
        rows, _, notes = worker_rows(texts, n_words, args.repeats, ours)
        print(header + f", {os.getloadavg()[0]:.2f} at the end\n")
        print_table(columns, rows)
        print("\n" + "\n".join(notes))
        return

    def direct_loop():
        return [[t.text for t in tokenizer(x)] for x in texts]

    def direct_pipe():
        return [[t.text for t in doc] for doc in tokenizer.pipe(texts, batch_size=1000)]

    def layered(rules=None):
        return lambda: tokenize_texts(
            texts, tok=ours, rules=rules, post_rules=[], n_workers=1, progress=False
        )

    t = interleaved(
        {
            "loop": direct_loop,
            "pipe": direct_pipe,
            "tok": lambda: ours(texts),
            "no_rules": layered(rules=[]),
            "rules": layered(),
        },
        args.repeats,
    )
    loop = t["loop"]
    rows = [
        [
            "(a) spaCy tokenizer, direct loop (the limit)",
            fmt_time(loop),
            f"{n_words / loop:,.0f}",
            "1.00×",
            "—",
            "—",
        ],
        [
            "(a) spaCy tokenizer.pipe",
            fmt_time(t["pipe"]),
            f"{n_words / t['pipe']:,.0f}",
            f"{t['pipe'] / loop:.2f}×",
            "—",
            "—",
        ],
    ]
    for key, label in (
        ("tok", "(a) layered SpacyTokenizer"),
        ("no_rules", "(a) layered tokenize_texts, no rules, 1 process"),
    ):
        rows.append(
            [
                label,
                fmt_time(t[key]),
                f"{n_words / t[key]:,.0f}",
                f"{t[key] / loop:.2f}×",
                "≤1.20×",
                verdict(t[key] / loop, 1.2),
            ]
        )
    rows.append(
        [
            "(a) layered tokenize_texts, default rules, 1 process",
            fmt_time(t["rules"]),
            f"{n_words / t['rules']:,.0f}",
            f"{t['rules'] / loop:.2f}×",
            "—",
            "—",
        ]
    )
    worker_table, two, notes = worker_rows(texts, n_words, args.repeats, ours)
    rows += worker_table
    fastai = None if args.no_fastai else fastai_seconds(texts)
    if fastai is not None:
        rows.append(
            [
                "(b) fastai tokenize_texts, default rules, 2 processes",
                fmt_time(fastai),
                f"{n_words / fastai:,.0f}",
                f"layered {fastai / two:.2f}× its docs/s ({len(texts) / fastai:,.0f} vs "
                f"{len(texts) / two:,.0f})",
                "≥3.00×",
                "pass" if fastai / two >= 3 else "FAIL",
            ]
        )

    toks = tokenize_texts(texts, tok=ours, n_workers=1, progress=False)
    num = Numericalize(make_vocab(Counter(t for ts in toks for t in ts)))
    docs = [num(ts) for ts in toks]
    dl = LMDataLoader(docs, bs=64, seq_len=72, shuffle=True)
    t_lm = timed(lambda: sum(1 for _ in dl), args.repeats)
    n_tokens = sum(len(d) for d in docs)
    rows.append(
        [
            "(c) LMDataLoader, bs=64, seq_len=72, one epoch",
            fmt_time(t_lm),
            f"{len(dl) / t_lm:,.0f} batches/s",
            f"{n_tokens / t_lm:,.0f} tokens/s",
            "—",
            "—",
        ]
    )

    with tempfile.TemporaryDirectory() as tmp:
        sp = SentencePieceTokenizer(vocab_sz=8000, cache_dir=tmp)
        start = time.perf_counter()
        sp.setup(texts)
        t_train = time.perf_counter() - start
        t_enc = timed(lambda: sp(texts), args.repeats)
    rows.append(["(d) SentencePiece training, vocab 8,000, unigram", fmt_time(t_train), "—", "—", "—", "—"])
    rows.append(["(d) SentencePiece encoding", fmt_time(t_enc), f"{n_words / t_enc:,.0f}", "—", "—", "—"])

    print(header + f", {os.getloadavg()[0]:.2f} at the end ({n_tokens:,} tokens)\n")
    print_table(columns, rows)
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
