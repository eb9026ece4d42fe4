"""AWD-LSTM: a stack of LSTMs regularised by four kinds of dropout (Merity et al., 2017).

- `EmbeddingDropout` drops whole words: rows of the embedding matrix are zeroed for a batch;
- `RNNDropout` drops the same features at every time step of a sequence (one mask per sequence);
- `WeightDropout` (DropConnect) drops entries of the hidden-to-hidden weights of each LSTM;
- the hidden state is carried from one batch to the next (detached, so gradients stop at the
  batch boundary), which suits the contiguous streams a language-model loader serves; `reset()`
  starts again from zeros.

`AWD_LSTM` returns the last layer's outputs, `(bs, seq_len, emb_sz)`; a decoder or a pooling
head goes on top (see `layered.text.models`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from layered.core.registry import register_serializable
from layered.text.errors import TextError

__all__ = [
    "AWD_LSTM",
    "EmbeddingDropout",
    "RNNDropout",
    "WeightDropout",
    "awd_lstm_clas_config",
    "awd_lstm_lm_config",
]

# Defaults of the ULMFiT paper (Howard & Ruder, 2018); `drop_mult` scales every `*_p`.
awd_lstm_lm_config = dict(
    emb_sz=400,
    n_hid=1152,
    n_layers=3,
    pad_token=1,
    bidir=False,
    output_p=0.1,
    hidden_p=0.15,
    input_p=0.25,
    embed_p=0.02,
    weight_p=0.2,
    tie_weights=True,
    out_bias=True,
)
# the classifier's: the same sizes, more dropout, no decoder to tie or bias
awd_lstm_clas_config = {
    k: v for k, v in awd_lstm_lm_config.items() if k not in ("tie_weights", "out_bias")
} | dict(output_p=0.4, hidden_p=0.3, input_p=0.4, embed_p=0.05, weight_p=0.5)


def _check_p(p: float, owner: str) -> float:
    if not 0.0 <= p < 1.0:
        raise TextError(f"{owner}: dropout probability must be in [0, 1), got {p}")
    return p


@register_serializable
class RNNDropout(nn.Module):
    """Dropout of features with one mask per sequence: `(bs, seq_len, n)` inputs, the mask `(bs, 1, n)`."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = _check_p(p, "RNNDropout")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Zero the same features at every time step (scaled by `1/(1-p)`) when training."""
        if not self.training or self.p == 0.0:
            return x
        mask = F.dropout(x.new_ones(x.shape[0], 1, *x.shape[2:]), self.p, training=True)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


@register_serializable
class EmbeddingDropout(nn.Module):
    """Look up `emb` with whole words dropped: each row of its weight is zeroed with probability `embed_p`.

    A dropped word is dropped everywhere it occurs in the batch, so the model cannot lean on any
    one word. The kept rows are scaled by `1/(1-embed_p)`.
    """

    def __init__(self, emb: nn.Embedding, embed_p: float):
        super().__init__()
        self.emb, self.embed_p = emb, _check_p(embed_p, "EmbeddingDropout")

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        """Embed the token ids `words`."""
        weight = self.emb.weight
        if self.training and self.embed_p > 0.0:
            rows = F.dropout(weight.new_ones(weight.shape[0], 1), self.embed_p, training=True)
            weight = weight * rows
        return F.embedding(
            words,
            weight,
            self.emb.padding_idx,
            self.emb.max_norm,
            self.emb.norm_type,
            self.emb.scale_grad_by_freq,
            self.emb.sparse,
        )

    def extra_repr(self) -> str:
        return f"embed_p={self.embed_p}"


@register_serializable
class WeightDropout(nn.Module):
    """DropConnect on `module`'s weights named `layer_names` (default: every `weight_hh_*` of an RNN).

    When training, each forward call runs `module` with a freshly dropped copy of those weights
    (through `torch.func.functional_call`); the parameters themselves are never replaced, so the
    state dict, the optimizer and `nn.LSTM`'s own weight bookkeeping see ordinary parameters.
    In evaluation the module runs unchanged.
    """

    def __init__(self, module: nn.Module, weight_p: float, layer_names: tuple[str, ...] | None = None):
        super().__init__()
        self.module, self.weight_p = module, _check_p(weight_p, "WeightDropout")
        names = dict(module.named_parameters(recurse=False))
        if layer_names is None:
            layer_names = tuple(n for n in names if n.startswith("weight_hh"))
        missing = [n for n in layer_names if n not in names]
        if missing or not layer_names:
            raise TextError(
                f"WeightDropout: {type(module).__name__} has no parameter(s) {missing or 'to drop'}; "
                f"its parameters are {sorted(names)}"
            )
        self.layer_names = tuple(layer_names)

    def forward(self, *args, **kwargs):
        """Call the wrapped module, with its named weights dropped when training."""
        if not self.training or self.weight_p == 0.0:
            return self.module(*args, **kwargs)
        dropped = {
            n: F.dropout(getattr(self.module, n), self.weight_p, training=True) for n in self.layer_names
        }
        return functional_call(self.module, dropped, args, kwargs)

    def extra_repr(self) -> str:
        return f"weight_p={self.weight_p}, layer_names={self.layer_names}"


@register_serializable
class AWD_LSTM(nn.Module):
    """A word embedding, then `n_layers` LSTMs (`n_hid` units; the last one `emb_sz`), with dropouts.

    `input_p` drops embedded features, `hidden_p` the outputs between LSTM layers, `embed_p`
    whole words and `weight_p` hidden-to-hidden weights. The last layer outputs `emb_sz` features
    so a decoder can share the embedding's weights. `bidir` runs each layer both ways (half the
    units each way). The hidden state of the last batch is kept (detached) and used for the next
    one; `reset()` clears it, and a batch of another size starts from zeros.
    """

    initrange = 0.1

    def __init__(
        self,
        vocab_sz: int,
        emb_sz: int = 400,
        n_hid: int = 1152,
        n_layers: int = 3,
        pad_token: int = 1,
        hidden_p: float = 0.3,
        input_p: float = 0.4,
        embed_p: float = 0.05,
        weight_p: float = 0.5,
        bidir: bool = False,
    ):
        super().__init__()
        if n_layers < 1:
            raise TextError(f"AWD_LSTM: n_layers must be at least 1, got {n_layers}")
        self.n_dir = 2 if bidir else 1
        for name, size in (("emb_sz", emb_sz), ("n_hid", n_hid)):
            if size < 1 or size % self.n_dir:
                raise TextError(f"AWD_LSTM: {name}={size} must be positive (and even when bidir=True)")
        if not 0 <= pad_token < vocab_sz:
            raise TextError(
                f"AWD_LSTM: pad_token={pad_token} is not an index of the {vocab_sz}-token vocabulary"
            )
        self.vocab_sz, self.emb_sz, self.n_hid, self.n_layers = vocab_sz, emb_sz, n_hid, n_layers
        self.encoder = nn.Embedding(vocab_sz, emb_sz, padding_idx=pad_token)
        self.encoder_dp = EmbeddingDropout(self.encoder, embed_p)
        sizes = [emb_sz] + [n_hid] * (n_layers - 1) + [emb_sz]
        self.rnns = nn.ModuleList(
            WeightDropout(
                nn.LSTM(sizes[i], sizes[i + 1] // self.n_dir, batch_first=True, bidirectional=bidir),
                weight_p,
            )
            for i in range(n_layers)
        )
        self.input_dp = RNNDropout(input_p)
        self.hidden_dps = nn.ModuleList(RNNDropout(hidden_p) for _ in range(n_layers))
        with torch.no_grad():
            self.encoder.weight.uniform_(-self.initrange, self.initrange)
            self.encoder.weight[pad_token].zero_()
        self.hidden: list[tuple[torch.Tensor, torch.Tensor]] | None = None

    def forward(self, inp: torch.Tensor, from_embeds: bool = False) -> torch.Tensor:
        """`(bs, seq_len)` token ids (or `(bs, seq_len, emb_sz)` embeddings) -> `(bs, seq_len, emb_sz)`."""
        if inp.ndim != (3 if from_embeds else 2):
            raise TextError(
                f"AWD_LSTM: expected {'(bs, seq_len, emb_sz) embeddings' if from_embeds else '(bs, seq_len) token ids'}, "
                f"got shape {tuple(inp.shape)}"
            )
        output = self.input_dp(inp if from_embeds else self.encoder_dp(inp))
        hidden = (
            self.hidden if self.hidden is not None and self.hidden[0][0].shape[1] == inp.shape[0] else None
        )
        new_hidden = []
        for i, (rnn, hid_dp) in enumerate(zip(self.rnns, self.hidden_dps)):
            output, state = rnn(output, None if hidden is None else hidden[i])
            new_hidden.append(state)
            if i != self.n_layers - 1:
                output = hid_dp(output)
        self.hidden = [(h.detach(), c.detach()) for h, c in new_hidden]
        return output

    def reset(self) -> None:
        """Forget the carried hidden state: the next batch starts from zeros."""
        self.hidden = None

    def reset_rows(self, rows: torch.Tensor) -> None:
        """Zero the carried hidden state of the batch rows where `rows` (a `(bs,)` bool mask) is true."""
        if self.hidden is None:
            return
        keep = (~rows.to(self.hidden[0][0].device))[None, :, None]
        self.hidden = [(h * keep, c * keep) for h, c in self.hidden]
