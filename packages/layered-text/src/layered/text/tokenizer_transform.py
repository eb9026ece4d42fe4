"""`Tokenizer`, the transform that turns a text (a string, a file, a table row) into its `TokenList`.

`Tokenizer` adds the rules, worker processes, caching and decoding around a word tokenizer
(`layered.text.tokenizers`), whichever it is:

```python
tok = Tokenizer()                                   # spaCy's blank English tokenizer and the default rules
tok = Tokenizer(SentencePieceTokenizer(vocab_sz=8000))
tok = Tokenizer(my_module.split_texts, rules=[])    # any picklable callable works the same way
```
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from layered.core.delegation import delegates
from layered.core.registry import register_serializable
from layered.core.transform import Transform
from layered.text._parallel import tokenize_one
from layered.text._sources import frame_texts, read_text, row_text
from layered.text.errors import TextError
from layered.text.rules import DEFAULT_POST_RULES, DEFAULT_RULES
from layered.text.tokenize import tokenize_texts
from layered.text.tokenizers import SpacyTokenizer

__all__ = ["TextStr", "TokenList", "Tokenizer"]


@register_serializable
class TokenList(list):
    """The tokens of one text."""

    def __str__(self) -> str:
        return " ".join(self)


@register_serializable
class TextStr(str):
    """A decoded text; `show` returns it (or sets it as an axis title), `truncate` shortens it."""

    def truncate(self, n_words: int) -> TextStr:
        """The first `n_words` words (split on spaces)."""
        words = self.split(" ")
        return self if len(words) <= n_words else TextStr(" ".join(words[:n_words]))

    def show(self, ctx: Any = None, **kwargs: Any) -> Any:
        """Set the text as the title of `ctx` (a matplotlib Axes), or return it when there is none."""
        if ctx is not None and hasattr(ctx, "set_title"):
            ctx.set_title(str(self), **kwargs)
            return ctx
        return str(self)


def _as_cols(cols: Any) -> list | None:
    if cols is None:
        return None
    return list(cols) if isinstance(cols, (list, tuple)) else [cols]


def _valid_text(text: str) -> str:
    """`text` itself, once checked to be valid Unicode; a lone surrogate raises naming its position."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise TextError(
            f"Tokenizer: the text {text[:40]!r}... has a lone surrogate {text[e.start]!r} at character "
            f"{e.start}; expected valid Unicode (decode the source with errors='replace' to drop it)"
        ) from None
    return text


@register_serializable
class Tokenizer(Transform):
    """A text, a file (`Path`) or a table row (`text_cols`) -> its `TokenList`; decodes back to text.

    Each text goes through the text `rules` (default `DEFAULT_RULES`), the tokenizer `tok`
    (default `SpacyTokenizer()`) and the `post_rules` (default: `add_bos`). Tokens are memoized
    by text in this process, so an item is tokenized once, not once per epoch: `setups` tokenizes
    the training items together, over `n_workers` processes (see `tokenize_texts`), and learns
    `counter`, their token counts; other items are tokenized on first use, one by one, unless
    `tokenize_items` is called on them first. With `cache_dir`, batches of tokens are also kept on
    disk and reused across sessions while the texts and settings are unchanged. The memo is not
    pickled: worker processes started by `spawn` tokenize the items they read again.
    """

    order = -10  # runs on the raw item, before anything else

    def __init__(
        self,
        tok: Callable | None = None,
        rules: Sequence[Callable] | None = None,
        post_rules: Sequence[Callable] | None = None,
        text_cols: Any = None,
        mark_fields: bool | None = None,
        encoding: str = "utf8",
        n_workers: int | None = None,
        cache_dir: str | Path | None = None,
        progress: bool = False,
    ):
        super().__init__()
        self.tok = SpacyTokenizer() if tok is None else tok
        if not callable(self.tok):
            raise TextError(f"Tokenizer: tok must be a callable on a list of texts, got {self.tok!r}")
        self.rules = list(DEFAULT_RULES if rules is None else rules)
        self.post_rules = list(DEFAULT_POST_RULES if post_rules is None else post_rules)
        self.text_cols = _as_cols(text_cols)
        self.mark_fields = (len(self.text_cols or ()) > 1) if mark_fields is None else mark_fields
        self.encoding, self.n_workers, self.progress = encoding, n_workers, progress
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.counter: Counter | None = None
        self._memo: dict[str, TokenList] = {}

    @classmethod
    @delegates(__init__, but="text_cols")
    def from_df(cls, text_cols: Any, tok: Callable | None = None, **kwargs: Any) -> Tokenizer:
        """A Tokenizer for rows of a DataFrame, reading (and joining, marked by `xxfld i`) `text_cols`."""
        return cls(tok, text_cols=text_cols, **kwargs)

    @classmethod
    @delegates(__init__)
    def from_folder(
        cls, path: str | Path, tok: Callable | None = None, cache_dir: Any = None, **kwargs: Any
    ) -> Tokenizer:
        """A Tokenizer for text files; tokens are cached in `path/.layered_text` (`cache_dir=False`: not at all)."""
        cache_dir = Path(path) / ".layered_text" if cache_dir is None else (cache_dir or None)
        return cls(tok, cache_dir=cache_dir, **kwargs)

    def text_of(self, o: Any) -> str:
        """The raw text of an item: a string itself, bytes decoded with `encoding`, a file's contents, or a row's `text_cols`.

        A string must be valid Unicode (a lone surrogate, e.g. from a broken decode, raises).
        """
        if isinstance(o, str):
            return _valid_text(o)
        if isinstance(o, (bytes, bytearray)):
            encoding = self.encoding or "utf-8"
            try:
                return _valid_text(bytes(o).decode(encoding))
            except UnicodeDecodeError as e:
                raise TextError(
                    f"Tokenizer: {len(o)} bytes are not {encoding} text ({e.reason} at byte {e.start}); "
                    f"expected a str or {encoding}-encoded bytes"
                ) from None
        if isinstance(o, Path):
            return read_text(o, self.encoding)
        if self.text_cols is not None and (hasattr(o, "index") or hasattr(o, "_fields")):
            return row_text(o, self.text_cols, self.mark_fields)
        raise TextError(
            f"Tokenizer: cannot read a text from {type(o).__name__} {o!r}; expected a str, a Path, or a "
            "table row with text_cols set (Tokenizer.from_df)"
        )

    def _texts(self, items: Any) -> list[str]:
        if hasattr(items, "iloc") and hasattr(items, "columns") and self.text_cols is not None:
            return frame_texts(items, self.text_cols, self.mark_fields)
        return [self.text_of(o) for o in items]

    def tokenize_items(self, items: Any) -> list[TokenList]:
        """The tokens of each item (a DataFrame counts as its rows); new texts are tokenized together."""
        texts = self._texts(items)
        new = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if new:
            toks = tokenize_texts(
                new,
                self.tok,
                self.rules,
                self.post_rules,
                n_workers=self.n_workers,
                cache_dir=self.cache_dir,
                progress=self.progress,
            )
            self._memo.update(zip(new, map(TokenList, toks)))
        return [self._memo[t] for t in texts]

    def setups(self, items: Any) -> None:
        if items is None:
            return
        toks = self.tokenize_items(items)
        self.counter = Counter(chain.from_iterable(toks))

    def encodes(self, o) -> TokenList:
        text = self.text_of(o)
        toks = self._memo.get(text)
        if toks is None:
            toks = self._memo[text] = TokenList(tokenize_one(text, self.tok, self.rules, self.post_rules))
        return toks

    def decodes(self, o: TokenList) -> TextStr:
        detokenize = getattr(self.tok, "detokenize", None)
        return TextStr(detokenize(o) if detokenize is not None else " ".join(o))

    def __getstate__(self) -> dict:
        # the memo and the training counts serve setup only: a copy or an export travels without them
        return {**super().__getstate__(), "_memo": {}, "counter": None}

    def __repr__(self) -> str:
        return f"Tokenizer(tok={self.tok!r}, text_cols={self.text_cols}, rules={[getattr(r, '__name__', r) for r in self.rules]})"
