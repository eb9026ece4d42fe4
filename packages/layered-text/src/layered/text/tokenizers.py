"""The word tokenizers a `Tokenizer` runs: spaCy words (`SpacyTokenizer`) and SentencePiece subwords.

A tokenizer is any callable mapping a list of texts to an iterable of token lists; these two are
the ones layered ships (spaCy and sentencepiece are imported when first used). `Tokenizer`
(`layered.text.tokenizer_transform`) adds the rules, worker processes, caching and decoding
around whichever one it runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from layered.core.registry import register_serializable
from layered.data.config import layered_home
from layered.text._parallel import digest
from layered.text.errors import TextError
from layered.text.rules import SPECIAL_TOKENS, UNK

__all__ = ["SentencePieceTokenizer", "SpacyTokenizer"]


def _kept_whole(tokenizer: Any, token: str) -> bool:
    """Whether spaCy's `tokenizer` keeps `token` whole wherever it appears, without a special case.

    A special case costs speed: once a text meets one, spaCy stops caching how it split the rest of
    that text's words (it marks the whole text), and the rules put `xxmaj` near the start of most
    texts. A word of lower-case ASCII letters that no prefix, suffix or infix pattern matches and
    that is no rule of spaCy's own is split the same way with or without one (spaCy itself does not
    give such special cases to its matcher), so it gets none.
    """
    return (
        token.isascii()
        and token.isalpha()
        and token.islower()
        and token not in tokenizer.rules
        and not tokenizer.find_prefix(token)
        and not tokenizer.find_suffix(token)
        and not tokenizer.find_infix(token)
    )


def _spacy_tokenizer(lang: str, special_toks: Sequence[str]) -> Any:
    """A new spaCy tokenizer for `lang` that keeps `special_toks` whole."""
    import spacy
    from spacy.symbols import ORTH

    try:
        tokenizer = spacy.blank(lang).tokenizer
    except Exception as e:  # spaCy raises its own ImportError/ValueError kinds for a bad code
        raise TextError(f"SpacyTokenizer: spaCy has no language {lang!r} ({e})") from e
    for t in special_toks:
        if not _kept_whole(tokenizer, t):
            tokenizer.add_special_case(t, [{ORTH: t}])
    return tokenizer


# (lang, special tokens) -> (spaCy's tokenizer, the words it was made to learn), one per process
_SHARED: dict[tuple[str, tuple[str, ...]], tuple[Any, set[str]]] = {}


@register_serializable
class SpacyTokenizer:
    """Words and punctuation by spaCy's rule-based tokenizer for `lang` (`spacy.blank`: no model download).

    The special tokens are kept whole; `buf_sz` texts are handed to spaCy at a time. The tokens
    are spaCy's; each new word is first tokenized alone, once, so that spaCy caches its split
    (see `_learn`), which roughly halves the time on running prose. Every `SpacyTokenizer` of the
    same `lang` and special tokens in a process shares one spaCy tokenizer and what it learnt, so
    a new one (each `tokenize_texts` call makes one) neither builds spaCy again (about 0.1 s) nor
    learns the common words again. Equal tokens of one call are one string object.
    """

    def __init__(self, lang: str = "en", special_toks: Sequence[str] | None = None, buf_sz: int = 5000):
        self.lang, self.buf_sz = lang, buf_sz
        self.special_toks = tuple(SPECIAL_TOKENS if special_toks is None else special_toks)
        self._tokenizer = None
        self._learned: set[str] = set()  # the words whose split spaCy was made to cache

    @property
    def tokenizer(self) -> Any:
        """spaCy's tokenizer, made on first use (spaCy is imported only then), shared in this process by settings."""
        if self._tokenizer is None:
            key = (self.lang, self.special_toks)
            if key not in _SHARED:
                _SHARED[key] = (_spacy_tokenizer(self.lang, self.special_toks), set())
            self._tokenizer, self._learned = _SHARED[key]
        return self._tokenizer

    @property
    def cache_key(self) -> str:
        """The settings that decide the tokens."""
        return f"SpacyTokenizer({self.lang!r}, {self.special_toks!r})"

    def __call__(self, texts: Iterable[str]) -> list[list[str]]:
        from spacy.attrs import ORTH

        tokenizer = self.tokenizer
        texts = list(texts)
        self._learn(tokenizer, texts)
        strings = tokenizer.vocab.strings
        # Each token's text is its ORTH hash looked up in spaCy's string store (what `Token.text`
        # does), read as one array per document: this skips making a `Token` object per token.
        # Most words recur, so their strings are looked up once per call and kept in a dict.
        known: dict[int, str] = {}
        out = []
        for doc in tokenizer.pipe(texts, batch_size=self.buf_sz):
            hashes = doc.to_array(ORTH).tolist()
            try:
                out.append([known[h] for h in hashes])
            except KeyError:
                known.update((h, strings[h]) for h in hashes if h not in known)
                out.append([known[h] for h in hashes])
        return out

    def _learn(self, tokenizer: Any, texts: list[str]) -> None:
        """Have spaCy cache the split of each word of `texts` (a run of non-space characters) not yet seen.

        spaCy caches how it split a word only until the text it is tokenizing meets a special case
        (`don't`, `e.g.`, a lone `'`): from there on it marks the whole text and caches nothing
        more of it, so in running prose most words are split again, affix by affix, every time
        they appear. Tokenized alone, once, each new word is cached; the tokens are the same (a
        cached split is the split spaCy makes), found two to three times faster. Learning stops
        at spaCy's cache size.
        """
        room = tokenizer.max_cache_size - len(self._learned)
        if room <= 0:
            return
        learned = self._learned
        for word in dict.fromkeys(chain.from_iterable(t.split() for t in texts)):  # in order: deterministic
            if word not in learned:
                tokenizer(word)
                learned.add(word)
                room -= 1
                if room == 0:
                    return

    def __getstate__(self) -> dict:
        # spaCy objects are large to pickle; each process makes its own
        return {**self.__dict__, "_tokenizer": None, "_learned": set()}

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
