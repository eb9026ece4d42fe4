"""Language models and text classifiers built around a recurrent encoder such as `AWD_LSTM`.

A language model is `SequentialRNN(encoder, LinearDecoder)`; a classifier is
`SequentialRNN(SentenceEncoder(encoder), PoolingLinearClassifier)`. Both return a tuple
`(prediction, raw_output, dropped_output)`: the last two are the encoder's last-layer outputs
before and after the head's dropout, which `RNNRegularizer` penalises (and `RNNCallback` strips
so the loss sees the prediction alone).

Other encoders plug in with `register_text_arch`: their default configurations and parameter
group splitters are looked up by class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.text.awd_lstm import AWD_LSTM, RNNDropout, awd_lstm_clas_config, awd_lstm_lm_config
from layered.text.errors import TextError
from layered.train.nn.layers import LinBnDrop, SigmoidRange

__all__ = [
    "LinearDecoder",
    "PoolingLinearClassifier",
    "SentenceEncoder",
    "SequentialRNN",
    "awd_lstm_clas_split",
    "awd_lstm_lm_split",
    "get_language_model",
    "get_text_classifier",
    "masked_concat_pool",
    "register_text_arch",
    "text_arch_meta",
]


@register_serializable
class LinearDecoder(nn.Module):
    """Encoder outputs `(bs, seq_len, n_hid)` -> next-token scores `(bs, seq_len, n_out)`, after `RNNDropout(output_p)`.

    With `tie_encoder` (an `nn.Embedding` of `n_out` x `n_hid`), the output layer shares the
    embedding's weight matrix: fewer parameters, and input and output word vectors agree.
    Returns `(scores, outputs, dropped outputs)`.
    """

    initrange = 0.1

    def __init__(
        self,
        n_out: int,
        n_hid: int,
        output_p: float = 0.1,
        tie_encoder: nn.Module | None = None,
        bias: bool = True,
    ):
        super().__init__()
        self.decoder = nn.Linear(n_hid, n_out, bias=bias)
        self.output_dp = RNNDropout(output_p)
        with torch.no_grad():
            self.decoder.weight.uniform_(-self.initrange, self.initrange)
            if bias:
                self.decoder.bias.zero_()
        if tie_encoder is not None:
            if tuple(tie_encoder.weight.shape) != (n_out, n_hid):
                raise TextError(
                    f"LinearDecoder: cannot tie a {tuple(tie_encoder.weight.shape)} embedding to a "
                    f"decoder of {n_hid} inputs and {n_out} outputs"
                )
            self.decoder.weight = tie_encoder.weight

    def forward(self, inp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(decoded, inp, dropped inp)`."""
        dropped = self.output_dp(inp)
        return self.decoder(dropped), inp, dropped


@register_serializable
class SequentialRNN(nn.Sequential):
    """An `nn.Sequential` whose `reset()` resets every child that has one (clears carried hidden states)."""

    def reset(self) -> None:
        """Call `reset()` on each child module that defines it."""
        for child in self.children():
            if hasattr(child, "reset"):
                child.reset()


@register_serializable
class SentenceEncoder(nn.Module):
    """Run `module` over a batch of padded documents `bptt` tokens at a time; return `(outputs, pad mask)`.

    The module carries its hidden state from chunk to chunk (gradients stop at chunk
    boundaries), so a document of any length fits in memory. Only the outputs of the chunks
    covering the last `max_len` tokens are kept (all of them when `max_len` is None). Rows whose
    chunk is all padding (padding placed first, as `pad_input_chunk` does, comes in whole chunks)
    have their hidden state put back to zeros, so a text reads the same whatever it is batched
    with. The mask is true at padding positions.
    """

    def __init__(self, bptt: int, module: nn.Module, pad_idx: int = 1, max_len: int | None = None):
        super().__init__()
        if bptt < 1:
            raise TextError(f"SentenceEncoder: bptt must be at least 1, got {bptt}")
        if max_len is not None and max_len < 1:
            raise TextError(f"SentenceEncoder: max_len must be positive or None, got {max_len}")
        self.bptt, self.module, self.pad_idx, self.max_len = bptt, module, pad_idx, max_len

    def reset(self) -> None:
        """Reset the wrapped module's hidden state."""
        if hasattr(self.module, "reset"):
            self.module.reset()

    def forward(self, inp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(bs, seq_len)` ids -> `(bs, kept_len, n_out)` outputs and the `(bs, kept_len)` padding mask."""
        if inp.ndim != 2:
            raise TextError(
                f"SentenceEncoder: expected (bs, seq_len) token ids, got shape {tuple(inp.shape)}"
            )
        sl = inp.shape[1]
        self.reset()
        pad = inp == self.pad_idx
        first_kept = 0 if self.max_len is None else max(0, sl - self.max_len)
        outs, start_kept = [], None
        reset_rows = getattr(self.module, "reset_rows", None)
        for i in range(0, sl, self.bptt):
            out = self.module(inp[:, i : i + self.bptt])
            if reset_rows is not None:
                reset_rows(pad[:, i : i + self.bptt].all(1))
            if i + self.bptt > first_kept:
                start_kept = i if start_kept is None else start_kept
                outs.append(out)
        return torch.cat(outs, dim=1), pad[:, start_kept:]


def masked_concat_pool(output: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Concatenate the last real time step, the max and the mean over time of `output`, ignoring `mask`ed steps.

    `output` is `(bs, seq_len, n)` and `mask` `(bs, seq_len)`, true at padding; the result is
    `(bs, 3n)`. A row with no real step (its kept window is all padding) pools to zeros.
    """
    real = ~mask
    n_real = real.sum(1, keepdim=True)
    positions = torch.arange(output.shape[1], device=output.device)
    last_idx = (positions * real).argmax(1)
    last = output[torch.arange(output.shape[0], device=output.device), last_idx]
    avg = output.masked_fill(mask[..., None], 0.0).sum(1) / n_real.clamp(min=1).to(output.dtype)
    mx = output.masked_fill(mask[..., None], float("-inf")).max(1).values
    empty = n_real == 0
    last, mx = last.masked_fill(empty, 0.0), mx.masked_fill(empty, 0.0)
    return torch.cat([last, mx, avg], dim=1)


@register_serializable
class PoolingLinearClassifier(nn.Module):
    """The classifier head: concat pooling of `(outputs, mask)`, then `LinBnDrop` blocks of sizes `dims`.

    `dims[0]` is three times the encoder's output size; `ps` are the blocks' dropouts (one per
    block); ReLU between blocks, none after the last. `y_range=(low, high)` squashes the outputs
    into that range (regression). Returns `(scores, outputs, outputs)` for `RNNRegularizer`.
    """

    def __init__(self, dims: Sequence[int], ps: Sequence[float], y_range: tuple | None = None):
        super().__init__()
        if len(ps) != len(dims) - 1:
            raise TextError(
                f"PoolingLinearClassifier: {len(ps)} dropouts for {len(dims) - 1} layers (dims={dims})"
            )
        last = len(dims) - 2
        layers: list[nn.Module] = [
            LinBnDrop(dims[i], dims[i + 1], p=ps[i], act=nn.ReLU(inplace=True) if i < last else None)
            for i in range(len(dims) - 1)
        ]
        if y_range is not None:
            layers.append(SigmoidRange(*y_range))
        self.layers = nn.Sequential(*layers)

    def forward(
        self, inp: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(outputs, mask)` from a `SentenceEncoder` -> `(scores, outputs, outputs)`."""
        out, mask = inp
        return self.layers(masked_concat_pool(out, mask)), out, out


def _params(modules: Sequence[nn.Module]) -> list[nn.Parameter]:
    # tied weights belong to one group only, the first that names them
    seen: dict[int, nn.Parameter] = {}
    for m in modules:
        for p in m.parameters():
            seen.setdefault(id(p), p)
    return list(seen.values())


def _dedup(groups: list[list[nn.Parameter]]) -> list[list[nn.Parameter]]:
    taken: set[int] = set()
    out = []
    for g in groups:
        out.append([p for p in g if id(p) not in taken])
        taken.update(id(p) for p in g)
    return out


def awd_lstm_lm_split(model: nn.Module) -> list[list[nn.Parameter]]:
    """Parameter groups of an AWD-LSTM language model: one per LSTM layer, then embedding and decoder."""
    enc = model[0]
    groups = [_params([rnn, dp]) for rnn, dp in zip(enc.rnns, enc.hidden_dps)]
    return _dedup([*groups, _params([enc.encoder, enc.encoder_dp, model[1]])])


def awd_lstm_clas_split(model: nn.Module) -> list[list[nn.Parameter]]:
    """Parameter groups of an AWD-LSTM classifier: embedding, one per LSTM layer, then the head."""
    enc = model[0].module
    groups = [_params([enc.encoder, enc.encoder_dp])]
    groups += [_params([rnn, dp]) for rnn, dp in zip(enc.rnns, enc.hidden_dps)]
    return _dedup([*groups, _params([model[1]])])


_ARCHS: dict[type, dict[str, Any]] = {}


def register_text_arch(
    arch: type,
    lm_config: dict,
    clas_config: dict,
    lm_split: Callable[[nn.Module], list],
    clas_split: Callable[[nn.Module], list],
) -> None:
    """Make `arch` usable by `get_language_model`, `get_text_classifier` and the text learners."""
    _ARCHS[arch] = {"lm": lm_config, "clas": clas_config, "split_lm": lm_split, "split_clas": clas_split}


register_text_arch(AWD_LSTM, awd_lstm_lm_config, awd_lstm_clas_config, awd_lstm_lm_split, awd_lstm_clas_split)


def text_arch_meta(arch: type) -> dict[str, Any]:
    """The registered configurations (`lm`, `clas`) and splitters (`split_lm`, `split_clas`) of `arch`."""
    if arch not in _ARCHS:
        names = ", ".join(a.__name__ for a in _ARCHS)
        raise TextError(
            f"{getattr(arch, '__name__', arch)!s} is not a registered text architecture ({names}); "
            "register it with register_text_arch"
        )
    return _ARCHS[arch]


def _config(arch: type, kind: str, config: dict | None, drop_mult: float) -> dict:
    merged = {**text_arch_meta(arch)[kind], **(config or {})}
    return {k: v * drop_mult if k.endswith("_p") else v for k, v in merged.items()}


def get_language_model(
    arch: type, vocab_sz: int, config: dict | None = None, drop_mult: float = 1.0
) -> SequentialRNN:
    """`SequentialRNN(arch(vocab_sz, **config), LinearDecoder)`; `config` overrides the arch's LM defaults.

    `drop_mult` scales every dropout; `tie_weights` shares the embedding with the decoder.
    """
    config = _config(arch, "lm", config, drop_mult)
    tie, output_p, out_bias = (
        config.pop("tie_weights", True),
        config.pop("output_p", 0.1),
        config.pop("out_bias", True),
    )
    encoder = arch(vocab_sz, **config)
    decoder = LinearDecoder(
        vocab_sz, config["emb_sz"], output_p, tie_encoder=encoder.encoder if tie else None, bias=out_bias
    )
    return SequentialRNN(encoder, decoder)


def get_text_classifier(
    arch: type,
    vocab_sz: int,
    n_class: int,
    seq_len: int = 72,
    config: dict | None = None,
    drop_mult: float = 1.0,
    lin_ftrs: Sequence[int] | None = None,
    ps: Sequence[float] | None = None,
    pad_idx: int = 1,
    max_len: int | None = 72 * 20,
    y_range: tuple | None = None,
) -> SequentialRNN:
    """`SequentialRNN(SentenceEncoder(seq_len, arch(...)), PoolingLinearClassifier)` with `n_class` outputs.

    The head has hidden layers of sizes `lin_ftrs` (default one of 50) with dropouts `ps`
    (default 0.1 each); its input dropout is the config's `output_p`.
    """
    if (config or {}).get("pad_token", pad_idx) != pad_idx:
        raise TextError(f"get_text_classifier: config pad_token={config['pad_token']} but pad_idx={pad_idx}")
    config = {**_config(arch, "clas", config, drop_mult), "pad_token": pad_idx}
    lin_ftrs = [50] if lin_ftrs is None else list(lin_ftrs)
    ps = [0.1] * len(lin_ftrs) if ps is None else list(ps)
    if len(ps) != len(lin_ftrs):
        raise TextError(f"get_text_classifier: {len(ps)} dropouts ps for {len(lin_ftrs)} layers lin_ftrs")
    dims = [config["emb_sz"] * 3, *lin_ftrs, n_class]
    ps = [config.pop("output_p", 0.4), *ps]
    encoder = SentenceEncoder(seq_len, arch(vocab_sz, **config), pad_idx=pad_idx, max_len=max_len)
    return SequentialRNN(encoder, PoolingLinearClassifier(dims, ps, y_range=y_range))
