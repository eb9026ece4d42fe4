import random
import re

import pytest

from layered.text.rules import (
    BOS,
    DEFAULT_RULES,
    SPECIAL_TOKENS,
    add_bos,
    add_eos,
    fix_html,
    replace_all_caps,
    replace_maj,
    replace_rep,
    replace_wrep,
    rm_useless_spaces,
    spec_add_spaces,
)
from layered.text.tokenize import tokenize_texts


def tokens(text, **kwargs):
    return tokenize_texts([text], n_workers=1, progress=False, **kwargs)[0]


def test_special_tokens_put_unknown_and_padding_first():
    assert SPECIAL_TOKENS[:3] == ("xxunk", "xxpad", "xxbos")


@pytest.mark.parametrize(
    "rule, text, expected",
    [
        (fix_html, "a<br />b &amp; c&#39;s 3 @-@ 4", "a\nb & c's 3-4"),
        (replace_rep, "sooooo", "s xxrep 5 o"),
        (replace_rep, "sooo", "sooo"),  # three times is not more than three
        (replace_wrep, "it is very very very good", "it is xxwrep 3 very good"),
        (replace_wrep, "very very", "very very"),
        (spec_add_spaces, "a/b#c", "a / b # c"),
        (rm_useless_spaces, "  a   b \n  c ", "a b\nc"),
        (replace_all_caps, "I SAID NO", "I xxup said xxup no"),
        (replace_maj, "Hello world, I'm Bob", "xxmaj hello world, xxmaj i'm xxmaj bob"),
    ],
)
def test_text_rules(rule, text, expected):
    # the rules pad what they insert with spaces; rm_useless_spaces (last by default) removes extras
    assert rm_useless_spaces(rule(text)) == expected


def _random_texts(alphabet: str, n: int = 3000):
    rng = random.Random(0)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(n)]


@pytest.mark.parametrize(
    "rule, reference, alphabet",
    [
        # the rules are tuned for speed; each must do exactly what its plain definition does
        (
            rm_useless_spaces,
            lambda t: re.sub(r" *([^\S ]+) *", r"\1", re.sub(" {2,}", " ", t)).strip(" "),
            " \n\t\u2003ab",
        ),
        (
            replace_rep,
            lambda t: re.sub(r"(\S)\1{3,}", lambda m: f" xxrep {len(m[0])} {m[1]} ", t),
            "aab -",
        ),
        (
            replace_wrep,
            lambda t: re.sub(
                r"\b(\w+)((?:\s+\1\b){2,})", lambda m: f" xxwrep {1 + len(m[2].split())} {m[1]} ", t
            ),
            "a  b\n-",
        ),
        (
            replace_all_caps,
            lambda t: re.sub(
                r"(?<![^\W_])(?<![^\W_]')[A-ZÉ][^\W_]*(?:'[^\W_]+)*",
                lambda m: (
                    f" xxup {m[0].lower()} " if m[0].isupper() and sum(map(str.isalpha, m[0])) > 1 else m[0]
                ),
                t,
            ),
            "aAÉé' 1_漢",
        ),
        (spec_add_spaces, lambda t: re.sub(r"([/#\\])", r" \1 ", t), "a/#\\ "),
        (
            replace_maj,
            lambda t: re.sub(
                r"(?<![^\W_])(?<![^\W_]')[A-ZÉ][^\W_]*(?:'[^\W_]+)*",
                lambda m: f" xxmaj {m[0].lower()} " if m[0][1:] == m[0][1:].lower() else m[0],
                t,
            ),
            "aAÉé' 1_",
        ),
    ],
)
def test_rules_match_their_plain_definitions(rule, reference, alphabet):
    for text in _random_texts(alphabet):
        assert rule(text) == reference(text), repr(text)


def test_post_rules():
    assert add_bos(["a"]) == [BOS, "a"]
    assert add_eos(["a"]) == ["a", "xxeos"]


def test_default_pipeline_gives_exact_tokens():
    text = "Hello WORLD!!!! It was sooooo good good good.<br />See you"
    assert tokens(text) == [
        "xxbos",
        "xxmaj",
        "hello",
        "xxup",
        "world",
        "xxrep",
        "4",
        "!",
        "xxmaj",
        "it",
        "was",
        "s",
        "xxrep",
        "5",
        "o",
        "xxwrep",
        "3",
        "good",
        ".",
        "\n",
        "xxmaj",
        "see",
        "you",
    ]


def test_rules_are_a_list_the_user_changes():
    text = "Hello WORLD"
    assert tokens(text, rules=[], post_rules=[]) == ["Hello", "WORLD"]
    assert tokens(text, rules=[*DEFAULT_RULES], post_rules=[add_bos, add_eos]) == [
        "xxbos",
        "xxmaj",
        "hello",
        "xxup",
        "world",
        "xxeos",
    ]
