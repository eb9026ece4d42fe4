"""TextBlock: texts for the data block API, for a language model or a classifier."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from layered.core.delegation import delegates
from layered.data.blocks import TransformBlock
from layered.text.lm_loader import LMDataLoader
from layered.text.numericalize import Numericalize
from layered.text.sorted_loader import PadInputChunk, SortedDL
from layered.text.tokenizer_transform import Tokenizer

__all__ = ["TextBlock"]


class TextBlock(TransformBlock):
    """Raw texts -> token ids: `tok_tfm` (a `Tokenizer`), then `Numericalize(vocab, min_freq, max_vocab)`.

    For a language model (`is_lm`), batches come from an `LMDataLoader` of `seq_len`-token
    streams; for a classifier, from a `SortedDL` padding each batch with `PadInputChunk`.
    """

    def __init__(
        self,
        tok_tfm: Tokenizer,
        vocab: Sequence[str] | None = None,
        is_lm: bool = False,
        seq_len: int = 72,
        min_freq: int = 3,
        max_vocab: int = 60000,
    ):
        self.tok_tfm, self.is_lm, self.seq_len = tok_tfm, is_lm, seq_len
        self.numericalize = Numericalize(vocab, min_freq=min_freq, max_vocab=max_vocab)
        if is_lm:
            dl_type, dls_kwargs = LMDataLoader, {"seq_len": seq_len}
        else:
            dl_type, dls_kwargs = SortedDL, {"before_batch": PadInputChunk(seq_len=seq_len)}
        super().__init__(type_tfms=[tok_tfm, self.numericalize], dl_type=dl_type, dls_kwargs=dls_kwargs)

    @property
    def vocab(self) -> list[str] | None:
        """The vocabulary (given, or learned once the data are set up)."""
        return self.numericalize.vocab

    @classmethod
    @delegates(__init__, but="tok_tfm")
    def from_df(
        cls,
        text_cols: Any,
        tok: Callable | None = None,
        rules: Sequence[Callable] | None = None,
        post_rules: Sequence[Callable] | None = None,
        mark_fields: bool | None = None,
        n_workers: int | None = None,
        cache_dir: str | Path | None = None,
        **kwargs: Any,
    ) -> TextBlock:
        """A TextBlock over DataFrame rows, reading `text_cols` (several are joined, marked `xxfld i`).

        The tokenizer settings go to `Tokenizer.from_df`, the others (`vocab`, `is_lm`, ...) to `TextBlock`.
        """
        tok_tfm = Tokenizer.from_df(
            text_cols,
            tok,
            rules=rules,
            post_rules=post_rules,
            mark_fields=mark_fields,
            n_workers=n_workers,
            cache_dir=cache_dir,
        )
        return cls(tok_tfm, **kwargs)

    @classmethod
    @delegates(__init__, but="tok_tfm")
    def from_folder(
        cls,
        path: str | Path,
        tok: Callable | None = None,
        rules: Sequence[Callable] | None = None,
        post_rules: Sequence[Callable] | None = None,
        encoding: str = "utf8",
        n_workers: int | None = None,
        cache_dir: Any = None,
        **kwargs: Any,
    ) -> TextBlock:
        """A TextBlock over text files; tokens are cached in `path/.layered_text` (`cache_dir=False`: not).

        The tokenizer settings go to `Tokenizer.from_folder`, the others (`vocab`, `is_lm`, ...) to `TextBlock`.
        """
        tok_tfm = Tokenizer.from_folder(
            path,
            tok,
            rules=rules,
            post_rules=post_rules,
            encoding=encoding,
            n_workers=n_workers,
            cache_dir=cache_dir,
        )
        return cls(tok_tfm, **kwargs)

    def __repr__(self) -> str:
        return (
            f"TextBlock(is_lm={self.is_lm}, seq_len={self.seq_len}, {self.tok_tfm!r}, {self.numericalize!r})"
        )
