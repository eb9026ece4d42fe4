"""SortedDL and padding: batches of texts of similar lengths, padded to the longest of each batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from layered.core.registry import register_serializable
from layered.data.tfmd_loader import TfmdDL
from layered.text.errors import TextError

__all__ = ["PadInput", "PadInputChunk", "SortedDL", "pad_input", "pad_input_chunk"]

# on the training set, items are sorted by length within windows of this many batches
_SORT_WINDOW_BATCHES = 50


def _text_of(sample: Any) -> torch.Tensor:
    return sample[0] if isinstance(sample, tuple) else sample


def _with_text(sample: Any, x: torch.Tensor) -> Any:
    return (x, *sample[1:]) if isinstance(sample, tuple) else x


def _padding(x: torch.Tensor, n: int, pad_idx: int) -> torch.Tensor:
    return torch.full((n,), pad_idx, dtype=x.dtype, device=x.device)


def pad_input(samples: list, *, pad_idx: int = 1, pad_first: bool = False) -> list:
    """Pad the text (the first element of each sample) with `pad_idx` to the longest in `samples`.

    The padding goes after the text, or before it with `pad_first`. Other elements are unchanged.
    The options are keyword-only: a loader's `before_batch` dispatches on the positional ones.
    """
    longest = max(len(_text_of(s)) for s in samples)
    out = []
    for s in samples:
        x = _text_of(s)
        pad = _padding(x, longest - len(x), pad_idx)
        out.append(_with_text(s, torch.cat([pad, x] if pad_first else [x, pad])))
    return out


def pad_input_chunk(samples: list, *, pad_idx: int = 1, pad_first: bool = True, seq_len: int = 72) -> list:
    """Pad texts to the longest in `samples`, the padding split into whole chunks of `seq_len` and a rest.

    A classifier's encoder reads a long text `seq_len` tokens at a time. With `pad_first` the whole
    chunks go before the text and the rest after it: the text starts on a chunk boundary, so
    every chunk is either all padding (the encoder can skip it) or starts on real tokens.
    Without, the text comes first, then the rest, then the whole chunks.
    """
    longest = max(len(_text_of(s)) for s in samples)
    out = []
    for s in samples:
        x = _text_of(s)
        n = longest - len(x)
        whole, rest = _padding(x, n - n % seq_len, pad_idx), _padding(x, n % seq_len, pad_idx)
        out.append(_with_text(s, torch.cat([whole, x, rest] if pad_first else [x, rest, whole])))
    return out


@register_serializable
class PadInput:
    """`pad_input` with its options bound, as a plain object so that an exported loader keeps it."""

    def __init__(self, pad_idx: int = 1, pad_first: bool = False):
        self.pad_idx, self.pad_first = pad_idx, pad_first

    def __call__(self, samples):
        return pad_input(samples, pad_idx=self.pad_idx, pad_first=self.pad_first)


@register_serializable
class PadInputChunk:
    """`pad_input_chunk` with its options bound, as a plain object so that an exported loader keeps it."""

    def __init__(self, pad_idx: int = 1, pad_first: bool = True, seq_len: int = 72):
        self.pad_idx, self.pad_first, self.seq_len = pad_idx, pad_first, seq_len

    def __call__(self, samples):
        return pad_input_chunk(samples, pad_idx=self.pad_idx, pad_first=self.pad_first, seq_len=self.seq_len)


@register_serializable
def _text_len(item: Any) -> int:
    return len(_text_of(item))


@register_serializable
class SortedDL(TfmdDL):
    """Batches of items of similar `sort_func` (default: the text's length), padded per batch.

    Without `shuffle` (validation) the items come longest first. With `shuffle` (training) they
    are shuffled, sorted by length within windows of 50 batches, cut into batches, and the full
    batches shuffled, the one with the longest text first (so running out of memory shows at
    once) and a short last batch last. `res` gives the lengths up front instead of reading every
    item; `before_batch` defaults to `pad_input` with `pad_idx` and `pad_first`.
    """

    def __init__(
        self,
        dataset: Any,
        sort_func: Callable[[Any], int] | None = None,
        res: Any = None,
        bs: int = 64,
        shuffle: bool = False,
        before_batch: Any = None,
        pad_idx: int = 1,
        pad_first: bool = False,
        **kwargs: Any,
    ):
        self.sort_func = _text_len if sort_func is None else sort_func
        self.res = self._lengths(dataset, res)
        if before_batch is None:
            before_batch = PadInput(pad_idx, pad_first)
        super().__init__(dataset, bs=bs, shuffle=shuffle, before_batch=before_batch, **kwargs)

    def _lengths(self, dataset: Any, res: Any) -> list:
        if res is None:
            return [self.sort_func(dataset[i]) for i in range(len(dataset))]
        res = list(res)
        if len(res) != len(dataset):
            raise TextError(f"SortedDL: res has {len(res)} lengths for {len(dataset)} items")
        return res

    def get_idxs(self) -> list:
        """Longest first; on training, shuffled batches of similar lengths (see the class doc)."""
        res = self.res
        if not self.shuffle:
            return sorted(range(self.n), key=lambda i: -res[i])
        idxs = self.shuffle_fn(list(range(self.n)))
        window = self.bs * _SORT_WINDOW_BATCHES
        idxs = [
            i
            for k in range(0, len(idxs), window)
            for i in sorted(idxs[k : k + window], key=lambda i: -res[i])
        ]
        batches = [idxs[k : k + self.bs] for k in range(0, len(idxs), self.bs)]
        last = [batches.pop()] if len(batches[-1]) < self.bs else []
        if not batches:
            return [i for b in last for i in b]
        longest = max(range(len(batches)), key=lambda k: res[batches[k][0]])
        first = batches.pop(longest)
        batches = [first, *self.shuffle_fn(batches), *last]
        return [i for b in batches for i in b]

    def serving_spec(self, n: int, text_len: int | None = None) -> Any:
        """What a graph export needs: token ids padded to `text_len` in, tokenizer and vocabulary described."""
        from layered.text.serving import text_serving_spec  # only exports need it

        return text_serving_spec(self, n, text_len)

    def new(self, dataset: Any = None, **changes: Any) -> SortedDL:
        """A copy over another dataset (its lengths are read) or with other settings."""
        dl = super().new(dataset, **{k: v for k, v in changes.items() if k != "res"})
        if dataset is not None or "res" in changes:
            dl.res = dl._lengths(dl.dataset, changes.get("res"))
        return dl
