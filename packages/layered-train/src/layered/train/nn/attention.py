"""Self-attention over the positions of a feature map: SAGAN's `SelfAttention` and `SimpleSelfAttention`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from layered.core.registry import register_serializable
from layered.train.errors import TrainError

__all__ = ["SelfAttention", "SimpleSelfAttention"]


def _sn_conv1d(ni: int, nf: int, ks: int = 1, padding: int = 0) -> nn.Module:
    """A bias-free, He-initialised, spectrally normalised `Conv1d` (the projections of both attentions)."""
    conv = nn.Conv1d(ni, nf, ks, padding=padding, bias=False)
    nn.init.kaiming_normal_(conv.weight)
    return nn.utils.parametrizations.spectral_norm(conv)


@register_serializable
class SelfAttention(nn.Module):
    """Self-attention of SAGAN (Zhang et al., 2018): every position attends to every other one.

    Queries and keys have `n_channels // 8` channels. The output is `x + gamma * attention`, with
    `gamma` starting at 0 so that the block starts as the identity and learns how much to attend.
    """

    def __init__(self, n_channels: int):
        super().__init__()
        if n_channels < 8:
            raise TrainError(f"SelfAttention needs at least 8 channels (queries use n//8), got {n_channels}")
        self.query = _sn_conv1d(n_channels, n_channels // 8)
        self.key = _sn_conv1d(n_channels, n_channels // 8)
        self.value = _sn_conv1d(n_channels, n_channels)
        self.gamma = nn.Parameter(torch.tensor([0.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Add attention-weighted values to `x` (any number of spatial dims)."""
        flat = x.flatten(2)
        q, k, v = self.query(flat), self.key(flat), self.value(flat)
        # beta[b, i, j]: how much output position j draws from input position i
        beta = F.softmax(torch.bmm(q.transpose(1, 2), k), dim=1)
        return (self.gamma * torch.bmm(v, beta) + flat).view_as(x)


@register_serializable
class SimpleSelfAttention(nn.Module):
    """A cheaper self-attention: `x + gamma * (x xᵀ) conv(x)`, with `gamma` starting at 0.

    `sym=True` makes the 1x1 conv's weight matrix symmetric (only for `ks=1`).
    """

    def __init__(self, n_in: int, ks: int = 1, sym: bool = False):
        super().__init__()
        if sym and ks != 1:
            raise TrainError(f"SimpleSelfAttention(sym=True) needs ks=1, got ks={ks}")
        self.sym, self.padding = sym, ks // 2
        self.conv = _sn_conv1d(n_in, n_in, ks, padding=self.padding)
        self.gamma = nn.Parameter(torch.tensor([0.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Add the attention term to `x` (any number of spatial dims)."""
        flat = x.flatten(2)
        weight = self.conv.weight
        if self.sym:
            w2 = weight.squeeze(-1)
            weight = ((w2 + w2.t()) / 2).unsqueeze(-1)
        convx = F.conv1d(flat, weight, padding=self.padding)
        xxt = torch.bmm(flat, flat.transpose(1, 2))
        return (self.gamma * torch.bmm(xxt, convx) + flat).view_as(x)
