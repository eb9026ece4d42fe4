"""Tokens <-> integer ids: the vocabulary, `Numericalize`, and the tensor types of texts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import torch

from layered.core.registry import register_serializable
from layered.core.tensor_types import TensorBase
from layered.core.transform import Transform
from layered.text.errors import TextError
from layered.text.rules import PAD, SPECIAL_TOKENS, UNK
from layered.text.tokenizer_transform import TokenList

__all__ = ["LMTensorText", "Numericalize", "TensorText", "make_vocab"]


@register_serializable
class TensorText(TensorBase):
    """The token ids of a text (1-d; a batch is 2-d)."""


@register_serializable
class LMTensorText(TensorText):
    """The input of a language model: a stretch of the token stream."""


def make_vocab(
    counter: Counter,
    min_freq: int = 3,
    max_vocab: int = 60000,
    special_toks: Sequence[str] | None = None,
) -> list[str]:
    """The special tokens, then the tokens seen at least `min_freq` times, most frequent first.

    At most `max_vocab` tokens are kept; the list is then padded with unused `xxfake{i}` tokens to
    a multiple of 8 (fast embedding and output layers on GPUs). Ties in frequency are ordered
    alphabetically, so the vocabulary does not depend on the order the texts were read in.
    """
    special = list(dict.fromkeys(SPECIAL_TOKENS if special_toks is None else special_toks))
    if max_vocab < len(special):
        raise TextError(
            f"make_vocab: max_vocab={max_vocab} leaves no room for the {len(special)} special tokens"
        )
    taken = set(special)
    ranked = sorted((c, t) for t, c in counter.items() if c >= min_freq and t not in taken)
    ranked.sort(key=lambda ct: -ct[0])  # stable: alphabetical within a count
    vocab = special + [t for _, t in ranked[: max_vocab - len(special)]]
    fakes = (t for i in range(len(vocab) + 8) if (t := f"xxfake{i}") not in counter)
    return vocab + [next(fakes) for _ in range(-len(vocab) % 8)]


@register_serializable
class Numericalize(Transform):
    """A `TokenList` -> `TensorText` of vocabulary ids (unknown tokens -> `xxunk`); decodes back.

    Without `vocab`, `setups` builds one with `make_vocab` from the training tokens' counts (the
    `counter` a `Tokenizer` before it learned, else counted here). Decoding drops padding.
    """

    def __init__(
        self,
        vocab: Sequence[str] | None = None,
        min_freq: int = 3,
        max_vocab: int = 60000,
        special_toks: Sequence[str] | None = None,
    ):
        super().__init__()
        self.min_freq, self.max_vocab, self.special_toks = min_freq, max_vocab, special_toks
        self.vocab: list[str] | None = None
        if vocab is not None:
            self._set_vocab(vocab)

    def _set_vocab(self, vocab: Iterable[str]) -> None:
        vocab = list(vocab)
        if UNK not in vocab:
            raise TextError(
                f"Numericalize: the vocabulary ({len(vocab)} tokens) has no {UNK!r} for unknown tokens"
            )
        self.vocab = vocab
        self.o2i = {t: i for i, t in reversed(list(enumerate(vocab)))}  # the first index of a duplicate
        self.unk_idx = self.o2i[UNK]
        self.pad_idx = self.o2i.get(PAD)

    def setups(self, dsets: Any) -> None:
        if self.vocab is not None or dsets is None:
            return
        counter = getattr(dsets, "counter", None)
        if counter is None:
            counter = Counter(chain.from_iterable(dsets))
        self._set_vocab(make_vocab(counter, self.min_freq, self.max_vocab, self.special_toks))

    def encodes(self, o: list) -> TensorText:
        if self.vocab is None:
            raise TextError("Numericalize: no vocabulary; pass vocab= or set it up on the training tokens")
        get, unk = self.o2i.get, self.unk_idx
        return TensorText(torch.tensor([get(t, unk) for t in o], dtype=torch.long))

    def decodes(self, o: TensorText) -> TokenList:
        return TokenList(self.vocab[i] for i in o.tolist() if i != self.pad_idx)

    def __repr__(self) -> str:
        size = "no vocabulary" if self.vocab is None else f"{len(self.vocab)} tokens"
        return f"Numericalize({size}, min_freq={self.min_freq}, max_vocab={self.max_vocab})"
