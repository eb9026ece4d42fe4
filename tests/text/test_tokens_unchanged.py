"""The default tokenization gives the same tokens as before its speed-ups, in and out of workers.

The expected digests were computed with the implementation of commit 92acf0c (before the
tokenization speed-ups) on the corpus below; the edge cases are also checked token by token.
"""

import hashlib
import json
from pydoc_data.topics import topics

import pytest

from layered.text.tokenize import tokenize_texts

EDGE_CASES = [
    "",
    "   ",
    "Hello WORLD, this is SOOOOO good!!!! <br />Next &amp; line",
    "word word word word and the the the end",
    "path/to#tag\\x and\ttabs\n\n  new  lines  ",
    "ÉCOLE Été naïve O'Neil DON'T don't I'm A B",
    "xxbos xxmaj already special xxunk",
    "nul\x00inside the\x00text",
    "emoji 🙂🙂🙂🙂 and ___ underscores ---- dashes",
    "WikiText 1 @,@ 000 and 3 @.@ 5 @-@ 6",
]
EDGE_TOKENS = [
    ["xxbos"],
    ["xxbos"],
    [
        "xxbos",
        "xxmaj",
        "hello",
        "xxup",
        "world",
        ",",
        "this",
        "is",
        "xxmaj",
        "s",
        "xxrep",
        "5",
        "xxmaj",
        "o",
        "good",
        "xxrep",
        "4",
        "!",
        "\n",
        "xxmaj",
        "next",
        "&",
        "line",
    ],
    ["xxbos", "xxwrep", "4", "word", "and", "xxwrep", "3", "the", "end"],
    ["xxbos", "path", "/", "to", "#", "tag", "\\", "x", "and", "\t", "tabs", "\n\n", "new", "lines"],
    [
        "xxbos",
        "xxup",
        "école",
        "xxmaj",
        "été",
        "naïve",
        "o'neil",
        "xxup",
        "do",
        "n't",
        "do",
        "n't",
        "xxmaj",
        "i",
        "'m",
        "xxmaj",
        "a",
        "xxmaj",
        "b",
    ],
    ["xxbos", "xxbos", "xxmaj", "already", "special", "xxunk"],
    ["xxbos", "nul\x00inside", "the\x00text"],
    ["xxbos", "emoji", "xxrep", "4", "🙂", "and", "_", "_", "_", "underscores", "xxrep", "4", "-", "dashes"],
    ["xxbos", "wikitext", "1,000", "and", "3.5", "-", "6"],
]
EXPECTED_DIGEST = "0938a2dd64fe2d4f08d8bacc92e7a869e911fbae92c678806d5a244824eccc19"


def prose(n_docs: int, words: int = 100) -> list[str]:
    """`n_docs` texts cut from the English prose that ships with CPython."""
    all_words = "\n".join(topics[k] for k in sorted(topics)).split(" ")
    return [" ".join(all_words[i * words : (i + 1) * words]) for i in range(n_docs)]


def token_digest(tokens: list[list[str]]) -> str:
    return hashlib.sha256(json.dumps(tokens, ensure_ascii=True).encode()).hexdigest()


@pytest.mark.parametrize("n_workers", [0, 1, 2])
def test_default_tokens_are_unchanged(n_workers):
    texts = prose(120) + EDGE_CASES
    tokens = tokenize_texts(texts, n_workers=n_workers, progress=False)
    assert tokens[-len(EDGE_CASES) :] == EDGE_TOKENS
    assert token_digest(tokens) == EXPECTED_DIGEST
