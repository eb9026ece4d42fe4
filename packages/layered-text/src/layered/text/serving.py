"""A text loader's inference path for graph exports: token ids of a fixed length in, the classifier's outputs out.

`SortedDL.serving_spec(n, text_len)` builds it for `layered.train.saving.serving`. Tokenizing and
numericalizing stay outside the graph (the sidecar names the tokenizer, its rules and the
vocabulary). The graph's `tokens` input has a dynamic batch size and a fixed length, `text_len`:
the classifier's encoder reads a text `seq_len` tokens at a time in a Python loop, which a graph
holds unrolled. Texts are padded as `pad_input_chunk` pads them, to `text_len`: whole chunks of
padding first, then the tokens, then the rest of the padding. Because the encoder starts afresh
after all-padding chunks and the pooling ignores padding, a text gives what `get_preds` gives
whatever the padding; a text longer than `text_len` keeps its last `text_len` tokens and may not.
"""

from __future__ import annotations

from typing import Any

import torch

from layered.text.errors import TextError
from layered.train.saving.serving import ServingSpec, pipeline_spec

__all__ = ["pad_tokens", "text_serving_spec"]


def _padder(dl: Any) -> Any:
    """The padding object of `dl`'s `before_batch` (`PadInputChunk` or `PadInput`), or None."""
    for f in getattr(dl.before_batch, "fs", []):
        for candidate in (f, _encoder_of(f)):
            if hasattr(candidate, "pad_idx"):
                return candidate
    return None


def _encoder_of(f: Any) -> Any:
    try:
        return f.encodes[object]
    except Exception:  # not a dispatch over plain objects: no wrapped padder
        return None


def pad_tokens(
    ids: list[int], text_len: int, pad_idx: int, seq_len: int | None, pad_first: bool
) -> list[int]:
    """`ids` padded (or cut, keeping the end) to `text_len` tokens by the loader's rule (see the module docstring)."""
    ids = list(ids)[-text_len:]
    n = text_len - len(ids)
    if seq_len is None:  # PadInput: all the padding on one side
        return [pad_idx] * n + ids if pad_first else ids + [pad_idx] * n
    whole, rest = [pad_idx] * (n - n % seq_len), [pad_idx] * (n % seq_len)
    return whole + ids + rest if pad_first else ids + rest + whole


def _tokenizer_description(dl: Any) -> dict:
    tfms = getattr(getattr(dl.dataset, "tls", [None])[0], "tfms", None)
    out: dict = {}
    for f in getattr(tfms, "fs", []):
        if hasattr(f, "rules"):
            out["tokenizer"] = repr(getattr(f, "tok", f))
            out["rules"] = [getattr(r, "__name__", repr(r)) for r in f.rules]
        if hasattr(f, "vocab"):
            out["vocab"] = [str(t) for t in f.vocab]
            out["unknown"] = "a token not in vocab gets index 0 (xxunk)"
    return out


def text_serving_spec(dl: Any, n: int, text_len: int | None = None) -> ServingSpec:
    """The spec of a text loader: `tokens` (int64, `(batch, text_len)`), the tokenizer and vocabulary outside."""
    spec = pipeline_spec(dl, getattr(dl, "n_inp", 1), n)
    pad = _padder(dl)
    if pad is None:
        raise TextError(
            f"export: the text loader {type(dl).__name__} has no PadInput/PadInputChunk before_batch"
        )
    seq_len = getattr(pad, "seq_len", None)
    if text_len is None:  # the longest text of the data, in whole chunks
        longest = max(getattr(dl, "res", None) or [spec.example[0].shape[1]])
        text_len = longest if seq_len is None else -(-longest // seq_len) * seq_len
    if text_len < 1:
        raise TextError(f"export: text_len must be a positive number of tokens, got {text_len}")
    tokens = spec.example[0]
    rows = []
    for row in tokens.tolist():
        ids = [t for t in row if t != pad.pad_idx]
        rows.append(pad_tokens(ids, text_len, pad.pad_idx, seq_len, pad.pad_first))
    example = (torch.tensor(rows, dtype=tokens.dtype), *spec.example[1:])
    outside = {
        **_tokenizer_description(dl),
        "padding": {
            "text_len": text_len,
            "pad_idx": pad.pad_idx,
            "pad_first": pad.pad_first,
            "chunk": seq_len,
            "rule": "n = text_len - len(ids); pad_first: [pad] * (n - n % chunk) + ids + [pad] * (n % chunk); "
            "a longer text keeps its last text_len ids",
        },
    }
    names = ["tokens", *spec.names[1:]]
    return ServingSpec(names, example, spec.module, outside, spec.dynamic)
