"""LMDataLoader: a language model's batches, built from three of the DataLoader's stages.

Each epoch the texts are concatenated, in a random order on the training set, into one stream
of `n` tokens (`before_iter`). The stream is cut into `bs` rows of `m = (n - 1) // bs`
consecutive tokens, which the batches walk through side by side, `seq_len` tokens at a time: row
`r` of batch `j` is `stream[r*m + j*seq_len : ...]`, and its target is the same stretch shifted
by one token. So the hidden state a recurrent model carries from one batch to the next goes
with the same row, every token of the first `bs * m` is an input exactly once per epoch (the
`(n - 1) % bs` left at the end of the stream are not), and the last batch may be shorter.
`get_idxs` keeps the items (row, step) in order and `create_item` slices the stream.

With `backwards`, the stream is reversed, so the model learns to predict each token from the
ones after it: a backwards language model (ULMFiT ensembles one with the forward model).
Showing or decoding a batch reverses it back, so its texts read forwards.
"""

from __future__ import annotations

from typing import Any

import torch

from layered.core.registry import register_serializable
from layered.data.tfmd_loader import TfmdDL
from layered.text.errors import TextError
from layered.text.numericalize import LMTensorText, TensorText
from layered.train.losses.default import register_default_loss
from layered.train.losses.flattened import CrossEntropyLossFlat

__all__ = ["LMDataLoader"]


def _ids(item: Any, i: int) -> torch.Tensor:
    """The token ids of dataset item `i` (a tensor, or a tuple whose first element is one)."""
    x = item[0] if isinstance(item, tuple) else item
    if not isinstance(x, torch.Tensor) or x.ndim != 1:
        raise TextError(
            f"LMDataLoader: item {i} is {type(x).__name__}{tuple(getattr(x, 'shape', ()))}, "
            "expected a 1-d tensor of token ids (a numericalized text)"
        )
    return x.as_subclass(torch.Tensor)


@register_serializable
class LMDataLoader(TfmdDL):
    """Batches `(x, y)` of `bs` parallel streams of `seq_len` token ids from the numericalized texts of `dataset`.

    `lens`, the texts' lengths in tokens, lets the loader know its size before reading the texts;
    they are read (and kept) on the first epoch otherwise. With `shuffle`, the texts are put in a
    new random order each epoch. With `backwards`, the stream (so every text) is read from its end.
    """

    target_type = TensorText  # the loader makes the targets (the next tokens): the default loss follows it

    def __init__(
        self,
        dataset: Any,
        lens: Any = None,
        bs: int = 64,
        seq_len: int = 72,
        num_workers: int = 0,
        shuffle: bool = False,
        backwards: bool = False,
        **kwargs: Any,
    ):
        if not isinstance(backwards, bool):
            raise TextError(f"LMDataLoader: backwards must be True or False, got {backwards!r}")
        if not isinstance(seq_len, int) or seq_len < 1:
            raise TextError(f"LMDataLoader: seq_len must be a positive integer, got {seq_len!r}")
        if kwargs.get("persistent_workers"):
            raise TextError(
                "LMDataLoader: persistent_workers is not supported (each epoch builds a new stream)"
            )
        self.dataset, self.seq_len, self.backwards, self._docs = dataset, seq_len, backwards, None
        self.lens = None if lens is None else [int(n) for n in lens]
        super().__init__(
            dataset, bs=bs, shuffle=shuffle, num_workers=num_workers, n=self._n_items(bs), **kwargs
        )

    def _read_docs(self) -> list[torch.Tensor]:
        if self._docs is None:
            self._docs = [_ids(self.dataset[i], i) for i in range(len(self.dataset))]
            if self.lens is not None and self.lens != [len(d) for d in self._docs]:
                raise TextError("LMDataLoader: lens do not match the lengths of the dataset's texts")
        return self._docs

    def _n_items(self, bs: int) -> int:
        """The number of items (row, step) per epoch: `bs` per batch."""
        lens = self.lens if self.lens is not None else [len(d) for d in self._read_docs()]
        if len(lens) != len(self.dataset):
            raise TextError(f"LMDataLoader: {len(lens)} lens for {len(self.dataset)} texts")
        n_tokens = sum(lens)
        self._row_len = (n_tokens - 1) // bs
        if not lens:  # no texts at all (an exported loader, or test_dl's template): no batches
            self._row_len = 0
            return 0
        if self._row_len < 1:
            raise TextError(
                f"LMDataLoader: {n_tokens} tokens in {len(lens)} texts cannot fill bs={bs} rows of "
                "at least one token and its target; lower bs or give more text"
            )
        return -(-self._row_len // self.seq_len) * bs

    def before_iter(self) -> None:
        """Concatenate the texts, shuffled on the training set, into this epoch's stream (reversed `backwards`)."""
        docs = self._read_docs()
        order = self.shuffle_fn(list(range(len(docs)))) if self.shuffle else range(len(docs))
        stream = torch.cat([docs[i] for i in order])
        self._stream = stream.flip(0) if self.backwards else stream

    def get_idxs(self) -> list:
        """Items in order: the shuffling is of the texts in the stream, not of stretches of it."""
        return list(range(self.n))

    def create_item(self, i: int) -> tuple[LMTensorText, TensorText]:
        """Row `i % bs` at step `i // bs`: `seq_len` tokens (fewer at the end) and the next token of each."""
        row, step = i % self.bs, i // self.bs
        start = row * self._row_len + step * self.seq_len
        length = min(self.seq_len, self._row_len - step * self.seq_len)
        return LMTensorText(self._stream[start : start + length]), TensorText(
            self._stream[start + 1 : start + length + 1]
        )

    def new(self, dataset: Any = None, **changes: Any) -> LMDataLoader:
        """A copy over another dataset or with other settings (`bs`, `seq_len`, ...)."""
        dl = super().new(dataset, **changes)
        if dataset is not None:
            dl._docs, dl.lens = None, changes.get("lens")
        dl.n = dl._n_items(dl.bs)
        return dl

    def _items(self, b: Any, max_n: int, full: bool) -> list:
        # x and y are both texts of the dataset's one pipeline (TfmdDL would pair y with a second one)
        decode = self.dataset.decode
        parts = [list(p[:max_n]) for p in (b if isinstance(b, tuple) else (b,))]
        if self.backwards:  # the texts of a backwards model's batches read forwards when shown
            parts = [[t.flip(-1) for t in part] for part in parts]
        return [
            tuple(decode((self.after_item.decode(t),), full=full)[0] for t in item) for item in zip(*parts)
        ]


# the next token is one class of the vocabulary at every position
register_default_loss(TensorText, CrossEntropyLossFlat)
