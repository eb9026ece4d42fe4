"""TextBlock: texts for the data block API, for a language model or a classifier."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from layered.core.delegation import delegates
from layered.data.blocks import TransformBlock
from layered.text.errors import TextError
from layered.text.lm_loader import LMDataLoader
from layered.text.numericalize import Numericalize
from layered.text.sorted_loader import PadInputChunk, SortedDL
from layered.text.tokenizer_transform import Tokenizer

__all__ = ["TextBlock"]


def _own_settings(kwargs: dict) -> dict:
    """Take TextBlock's own settings out of `kwargs` (what is left is the tokenizer's)."""
    return {
        k: kwargs.pop(k)
        for k in ("vocab", "is_lm", "seq_len", "min_freq", "max_vocab", "backwards")
        if k in kwargs
    }


class TextBlock(TransformBlock):
    """Raw texts -> token ids: `tok_tfm` (a `Tokenizer`), then `Numericalize(vocab, min_freq, max_vocab)`.

    For a language model (`is_lm`), batches come from an `LMDataLoader` of `seq_len`-token
    streams (read from the end with `backwards`, for a backwards language model); for a
    classifier, from a `SortedDL` padding each batch with `PadInputChunk`.
    """

    def __init__(
        self,
        tok_tfm: Tokenizer,
        vocab: Sequence[str] | None = None,
        is_lm: bool = False,
        seq_len: int = 72,
        min_freq: int = 3,
        max_vocab: int = 60000,
        backwards: bool = False,
    ):
        if backwards and not is_lm:
            raise TextError(
                "TextBlock: backwards=True reverses a language model's stream and needs is_lm=True "
                "(a classifier reads its texts forwards)"
            )
        self.tok_tfm, self.is_lm, self.seq_len, self.backwards = tok_tfm, is_lm, seq_len, backwards
        self.numericalize = Numericalize(vocab, min_freq=min_freq, max_vocab=max_vocab)
        if is_lm:
            dl_type, dls_kwargs = LMDataLoader, {"seq_len": seq_len, "backwards": backwards}
        else:
            dl_type, dls_kwargs = SortedDL, {"before_batch": PadInputChunk(seq_len=seq_len)}
        super().__init__(type_tfms=[tok_tfm, self.numericalize], dl_type=dl_type, dls_kwargs=dls_kwargs)

    @property
    def vocab(self) -> list[str] | None:
        """The vocabulary (given, or learned once the data are set up)."""
        return self.numericalize.vocab

    @classmethod
    @delegates(__init__, but="tok_tfm")
    @delegates(Tokenizer.from_df, keep=True)
    def from_df(cls, text_cols: Any, **kwargs: Any) -> TextBlock:
        """A TextBlock over DataFrame rows, reading `text_cols` (several are joined, marked `xxfld i`).

        The TextBlock's own settings (`vocab`, `is_lm`, ...) go to it, the others to `Tokenizer.from_df`.
        """
        own = _own_settings(kwargs)
        return cls(Tokenizer.from_df(text_cols, **kwargs), **own)

    @classmethod
    @delegates(__init__, but="tok_tfm")
    @delegates(Tokenizer.from_folder, keep=True)
    def from_folder(cls, path: str | Path, **kwargs: Any) -> TextBlock:
        """A TextBlock over text files; tokens are cached in `path/.layered_text` (`cache_dir=False`: not).

        The TextBlock's own settings (`vocab`, `is_lm`, ...) go to it, the others to `Tokenizer.from_folder`.
        """
        own = _own_settings(kwargs)
        return cls(Tokenizer.from_folder(path, **kwargs), **own)

    def __repr__(self) -> str:
        return (
            f"TextBlock(is_lm={self.is_lm}, seq_len={self.seq_len}, backwards={self.backwards}, "
            f"{self.tok_tfm!r}, {self.numericalize!r})"
        )
