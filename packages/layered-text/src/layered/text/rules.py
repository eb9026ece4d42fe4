"""Special tokens and the rules that prepare text for a tokenizer and mark what lower-casing loses.

Rules are plain functions kept in lists the user can change:

- text rules (`str -> str`) run in order on each raw text before it is tokenized. They work on
  the string, not on tokens, so they suit any tokenizer (spaCy words or SentencePiece pieces);
- post rules (`list[str] -> list[str]`) run on each text's tokens afterwards.

```python
Tokenizer(rules=[*DEFAULT_RULES, my_rule], post_rules=[add_bos, add_eos])
```
"""

from __future__ import annotations

import functools
import html
import re

from layered.core.registry import register_serializable

__all__ = [
    "BOS",
    "DEFAULT_POST_RULES",
    "DEFAULT_RULES",
    "EOS",
    "FLD",
    "PAD",
    "SPECIAL_TOKENS",
    "TK_MAJ",
    "TK_REP",
    "TK_UP",
    "TK_WREP",
    "UNK",
    "add_bos",
    "add_eos",
    "fix_html",
    "lowercase",
    "replace_all_caps",
    "replace_maj",
    "replace_rep",
    "replace_wrep",
    "rm_useless_spaces",
    "spec_add_spaces",
]

UNK, PAD, BOS, EOS, FLD = "xxunk", "xxpad", "xxbos", "xxeos", "xxfld"
TK_REP, TK_WREP, TK_UP, TK_MAJ = "xxrep", "xxwrep", "xxup", "xxmaj"
# The order is the vocabulary's: UNK gets index 0 and PAD index 1 (the padding index loaders use).
SPECIAL_TOKENS = (UNK, PAD, BOS, EOS, FLD, TK_REP, TK_WREP, TK_UP, TK_MAJ)

_HTML_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
# WikiText writes the separators inside numbers as " @-@ ", " @,@ ", " @.@ "
_WIKI_SEPARATOR = re.compile(r" @([-,.])@ ")
# Python's regex engine is fastest when a pattern cannot backtrack (possessive `++`) and when it
# starts with a character class, which it scans for in C; the patterns below are written so.
_CHAR_REP = re.compile(r"(\S)\1\1\1+")
_WORD_REP = re.compile(r"\b(\w++)((?:\s+\1\b){2,})")
_WORD_PAIR = re.compile(r"\s(\w++)\s++\1\b")  # found in every text _WORD_REP matches
_SPACES = re.compile(r" {2,}")


@functools.cache
def _unicode_patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """The patterns that list Unicode character classes: built on first use (tens of ms), not at import."""
    bmp = [chr(i) for i in range(0x10000)]  # the basic plane holds all of Unicode's whitespace
    # whitespace other than the space (line breaks, tabs, ...), listed so the engine scans a plain set
    breaks = re.compile("([" + re.escape("".join(c for c in bmp if c.isspace() and c != " ")) + "]+)")
    # A word starting with a capital: letters and digits, with inner apostrophes ("Don't" is one
    # word), not preceded by a letter or digit. Matching only capitalised words (Unicode upper-case
    # letters of the basic plane, listed once here) keeps the case rules' Python callbacks off the
    # ~90% of English words that need none. The look-behinds come after the capital, so the engine
    # scans for capitals, then checks the one or two characters before each.
    upper = re.escape("".join(c for c in bmp if c.isupper()))
    capitalised = re.compile(rf"[{upper}](?<![^\W_].)(?<![^\W_]'.)[^\W_]*+(?:'[^\W_]+)*+")
    # Of those, the words that might be all capitals: the character after the first (past an
    # apostrophe) is a letter or digit that is not lower case.
    lower = re.escape("".join(c for c in bmp if c.islower()))
    maybe_all_caps = re.compile(
        rf"[{upper}](?<![^\W_].)(?<![^\W_]'.)(?='?[^\W_])(?!'?[{lower}])[^\W_]*+(?:'[^\W_]+)*+"
    )
    return breaks, capitalised, maybe_all_caps


@register_serializable
def fix_html(t: str) -> str:
    """Undo HTML and WikiText artefacts: `<br />` becomes a newline, entities are unescaped."""
    t = _HTML_BREAK.sub("\n", t.replace("\\n", "\n"))
    return html.unescape(_WIKI_SEPARATOR.sub(r"\1", t)).replace("\xa0", " ")


@register_serializable
def replace_rep(t: str) -> str:
    """A character repeated more than three times becomes `xxrep n c`: "sooooo" -> "s xxrep 5 o"."""
    # a search is quicker than a substitution that finds nothing; the substitution starts at the
    # first repetition found (the pattern looks at nothing before a match)
    m = _CHAR_REP.search(t)
    return t if m is None else t[: m.start()] + _CHAR_REP.sub(_rep_tokens, t[m.start() :])


def _rep_tokens(m: re.Match) -> str:
    return f" {TK_REP} {len(m.group(0))} {m.group(1)} "


@register_serializable
def replace_wrep(t: str) -> str:
    """A word repeated three or more times in a row becomes `xxwrep n w`: "a a a" -> "xxwrep 3 a"."""
    # a word right after itself (the 2nd and 3rd of a run of 3) is rare and twice as quick to look for
    return _WORD_REP.sub(_wrep_tokens, t) if _WORD_PAIR.search(t) else t


def _wrep_tokens(m: re.Match) -> str:
    return f" {TK_WREP} {1 + len(m.group(2).split())} {m.group(1)} "


@register_serializable
def spec_add_spaces(t: str) -> str:
    """Put spaces around `/`, `#` and `\\`, so they become tokens of their own."""
    for c in "/#\\":
        if c in t:
            t = t.replace(c, f" {c} ")
    return t


@register_serializable
def rm_useless_spaces(t: str) -> str:
    """Collapse runs of spaces, drop spaces beside line breaks and tabs, strip both ends.

    spaCy would otherwise make tokens such as `"\\n "` of a break and the space after it.
    """
    if t.replace("\n", "").isprintable():  # only spaces and newlines: str methods suffice (and are faster)
        return "\n".join(map(" ".join, map(str.split, t.split("\n"))))
    parts = _unicode_patterns()[0].split(t)  # text, break, text, ..., text
    parts[::2] = [(_SPACES.sub(" ", p) if "  " in p else p).strip(" ") for p in parts[::2]]
    return "".join(parts)


@register_serializable
def replace_all_caps(t: str) -> str:
    """A word of two or more letters, all capitals, becomes `xxup word`: "STOP" -> "xxup stop"."""
    return _unicode_patterns()[2].sub(_caps_tokens, t)


def _caps_tokens(m: re.Match) -> str:
    w = m.group(0)
    return f" {TK_UP} {w.lower()} " if w.isupper() and sum(c.isalpha() for c in w) > 1 else w


@register_serializable
def replace_maj(t: str) -> str:
    """A capitalised word (the rest lower case) becomes `xxmaj word`: "Hello" -> "xxmaj hello"."""

    def sub(m: re.Match) -> str:
        w = m.group(0)
        rest = w[1:]
        return f" {TK_MAJ} {w.lower()} " if rest == rest.lower() else w

    return _unicode_patterns()[1].sub(sub, t)


@register_serializable
def lowercase(t: str) -> str:
    """Lower-case the text (after the case rules have marked what this loses)."""
    return t.lower()


@register_serializable
def add_bos(tokens: list[str]) -> list[str]:
    """Start the tokens with `xxbos`, so a stream of concatenated texts shows where each begins."""
    return [BOS, *tokens]


@register_serializable
def add_eos(tokens: list[str]) -> list[str]:
    """End the tokens with `xxeos`."""
    return [*tokens, EOS]


DEFAULT_RULES = (
    fix_html,
    replace_rep,
    replace_wrep,
    spec_add_spaces,
    replace_all_caps,
    replace_maj,
    lowercase,
    rm_useless_spaces,
)
DEFAULT_POST_RULES = (add_bos,)
