"""Tokenizers (spaCy words, SentencePiece subwords) and `Tokenizer`, the transform that runs one.

A tokenizer is any callable mapping a list of texts to an iterable of token lists; `Tokenizer`
adds the rules, worker processes, caching and decoding around it, whichever it is:

```python
tok = Tokenizer()                                   # spaCy's blank English tokenizer and the default rules
tok = Tokenizer(SentencePieceTokenizer(vocab_sz=8000))
tok = Tokenizer(my_module.split_texts, rules=[])    # any picklable callable works the same way
```
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from layered.core.registry import register_serializable
from layered.core.transform import Transform
from layered.data.config import layered_home
from layered.text._parallel import digest, run_tokenizer
from layered.text._sources import frame_texts, read_text, row_text
from layered.text.errors import TextError
from layered.text.rules import DEFAULT_POST_RULES, DEFAULT_RULES, SPECIAL_TOKENS, UNK

__all__ = ["SentencePieceTokenizer", "SpacyTokenizer", "TextStr", "TokenList", "Tokenizer"]


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


@register_serializable
class SpacyTokenizer:
    """Words and punctuation by spaCy's rule-based tokenizer for `lang` (`spacy.blank`: no model download).

    The special tokens are kept whole; `buf_sz` texts are handed to spaCy at a time.
    """

    def __init__(self, lang: str = "en", special_toks: Sequence[str] | None = None, buf_sz: int = 5000):
        self.lang, self.buf_sz = lang, buf_sz
        self.special_toks = tuple(SPECIAL_TOKENS if special_toks is None else special_toks)
        self._tokenizer = None

    @property
    def tokenizer(self) -> Any:
        """spaCy's tokenizer, made on first use (spaCy is imported only then)."""
        if self._tokenizer is None:
            import spacy
            from spacy.symbols import ORTH

            try:
                tokenizer = spacy.blank(self.lang).tokenizer
            except Exception as e:  # spaCy raises its own ImportError/ValueError kinds for a bad code
                raise TextError(f"SpacyTokenizer: spaCy has no language {self.lang!r} ({e})") from e
            for t in self.special_toks:
                tokenizer.add_special_case(t, [{ORTH: t}])
            self._tokenizer = tokenizer
        return self._tokenizer

    @property
    def cache_key(self) -> str:
        """The settings that decide the tokens."""
        return f"SpacyTokenizer({self.lang!r}, {self.special_toks!r})"

    def __call__(self, texts: Iterable[str]) -> list[list[str]]:
        return [[t.text for t in doc] for doc in self.tokenizer.pipe(texts, batch_size=self.buf_sz)]

    def __getstate__(self) -> dict:
        # spaCy objects are large to pickle; each process makes its own
        return {**self.__dict__, "_tokenizer": None}

    def __repr__(self) -> str:
        return f"SpacyTokenizer(lang={self.lang!r})"


@register_serializable
class SentencePieceTokenizer:
    """Subword pieces from a SentencePiece model trained on the training texts by `setup`.

    `vocab_sz=None` picks about a quarter of the distinct words, a multiple of 8, at most
    `max_vocab_sz` (the size is a soft limit: small corpora get fewer pieces rather than an
    error). `model_type` is 'unigram', 'bpe', 'char' or 'word'; `char_coverage` defaults to
    0.99999 (0.9998 for Chinese and Japanese). The model file is named by a digest of the texts and
    settings and kept in `cache_dir` (give the data's folder to keep it next to the data; default
    `$LAYERED_HOME/sentencepiece`), so the same texts reuse it instead of training again.
    """

    _MODEL_TYPES = ("unigram", "bpe", "char", "word")

    def __init__(
        self,
        lang: str = "en",
        vocab_sz: int | None = None,
        max_vocab_sz: int = 30000,
        model_type: str = "unigram",
        char_coverage: float | None = None,
        cache_dir: str | Path | None = None,
        special_toks: Sequence[str] | None = None,
    ):
        if model_type not in self._MODEL_TYPES:
            raise TextError(
                f"SentencePieceTokenizer: model_type {model_type!r} is not one of {self._MODEL_TYPES}"
            )
        self.lang, self.vocab_sz, self.max_vocab_sz, self.model_type = (
            lang,
            vocab_sz,
            max_vocab_sz,
            model_type,
        )
        self.char_coverage = char_coverage or (0.9998 if lang in ("zh", "ja") else 0.99999)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.special_toks = tuple(SPECIAL_TOKENS if special_toks is None else special_toks)
        self.model_path: Path | None = None
        self.model_proto: bytes | None = None  # the model itself, so that copies and exports carry it
        self._processor = None

    def _size(self, texts: Sequence[str]) -> int:
        if self.vocab_sz is not None:
            return self.vocab_sz
        words = len({w for t in texts for w in t.split()})
        return max(len(self.special_toks) + 8, min(self.max_vocab_sz, words // 4 // 8 * 8))

    def setup(self, texts: Sequence[str]) -> Path:
        """Train the model on `texts` (or reuse the one trained on the same texts); returns its file."""
        if self.model_proto is not None:
            return self.model_path
        import sentencepiece as spm

        size = self._size(texts)
        settings = [self.model_type, str(size), str(self.char_coverage), *self.special_toks]
        name = f"spm-{digest(chain(settings, texts))[:20]}"
        folder = self.cache_dir or layered_home() / "sentencepiece"
        path = folder / f"{name}.model"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = f"{folder / name}.{os.getpid()}-{id(self)}-partial"  # SentencePiece adds .model, .vocab
            lines = (line for t in texts for line in t.split("\n") if line.strip())
            spm.SentencePieceTrainer.train(
                sentence_iterator=lines,
                model_prefix=tmp,
                vocab_size=size,
                hard_vocab_limit=False,
                model_type=self.model_type,
                character_coverage=self.char_coverage,
                unk_id=0,
                unk_piece=UNK,
                bos_id=-1,
                eos_id=-1,
                pad_id=-1,
                user_defined_symbols=[t for t in self.special_toks if t != UNK],
                max_sentence_length=1 << 16,
                minloglevel=2,
            )
            Path(f"{tmp}.vocab").unlink(missing_ok=True)
            os.replace(f"{tmp}.model", path)  # in the same folder: an atomic rename
        self.model_path, self.model_proto = path, path.read_bytes()
        return path

    @property
    def processor(self) -> Any:
        """The loaded SentencePiece model (loaded on first use in each process)."""
        if self._processor is None:
            if self.model_proto is None:
                raise TextError(
                    "SentencePieceTokenizer: no model yet; call setup(texts) with the training texts"
                )
            import sentencepiece as spm

            self._processor = spm.SentencePieceProcessor(model_proto=self.model_proto)
        return self._processor

    @property
    def cache_key(self) -> str:
        """The settings and the model file that decide the pieces."""
        return f"SentencePieceTokenizer({self.model_type}, {self.vocab_sz}, {self.char_coverage}, {self.model_path})"

    def __call__(self, texts: Iterable[str]) -> list[list[str]]:
        return self.processor.encode(list(texts), out_type=str)

    def detokenize(self, tokens: Sequence[str]) -> str:
        """The text the pieces stand for (pieces joined, `▁` back to spaces)."""
        return self.processor.decode_pieces(list(tokens))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_processor": None}

    def __repr__(self) -> str:
        return f"SentencePieceTokenizer(model_type={self.model_type!r}, vocab_sz={self.vocab_sz}, model={self.model_path})"


def _as_cols(cols: Any) -> list | None:
    if cols is None:
        return None
    return list(cols) if isinstance(cols, (list, tuple)) else [cols]


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
    def from_df(cls, text_cols: Any, tok: Callable | None = None, **kwargs: Any) -> Tokenizer:
        """A Tokenizer for rows of a DataFrame, reading (and joining, marked by `xxfld i`) `text_cols`."""
        return cls(tok, text_cols=text_cols, **kwargs)

    @classmethod
    def from_folder(
        cls, path: str | Path, tok: Callable | None = None, cache_dir: Any = None, **kwargs: Any
    ) -> Tokenizer:
        """A Tokenizer for text files; tokens are cached in `path/.layered_text` (`cache_dir=False`: not at all)."""
        cache_dir = Path(path) / ".layered_text" if cache_dir is None else (cache_dir or None)
        return cls(tok, cache_dir=cache_dir, **kwargs)

    def text_of(self, o: Any) -> str:
        """The raw text of an item: a string itself, a file's contents, or a row's `text_cols`."""
        if isinstance(o, str):
            return o
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
        from layered.text.tokenize import tokenize_texts  # that module builds on this one

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
            toks = self._memo[text] = TokenList(
                run_tokenizer([text], self.tok, self.rules, self.post_rules, 1, False)[0]
            )
        return toks

    def decodes(self, o: TokenList) -> TextStr:
        detokenize = getattr(self.tok, "detokenize", None)
        return TextStr(detokenize(o) if detokenize is not None else " ".join(o))

    def __getstate__(self) -> dict:
        # the memo and the training counts serve setup only: a copy or an export travels without them
        return {**super().__getstate__(), "_memo": {}, "counter": None}

    def __repr__(self) -> str:
        return f"Tokenizer(tok={self.tok!r}, text_cols={self.text_cols}, rules={[getattr(r, '__name__', r) for r in self.rules]})"
