"""TabularModel: embeddings for the categorical columns, batch norm for the continuous ones, then a stack of `LinBnDrop`.

Embedding sizes follow `emb_sz_rule(n) = min(600, round(1.6 * n ** 0.56))` for a column with
`n` levels (`#na#` included) — fastai's empirical rule, which grows sub-linearly so that a
10-level column gets 6 features and a 10,000-level one 278 — and can be set per column.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.tabular.errors import TabularError
from layered.train.nn.layers import Embedding, LinBnDrop, SigmoidRange

__all__ = ["TabularModel", "emb_sz_rule", "get_emb_sz", "tabular_config"]


def emb_sz_rule(n_cat: int) -> int:
    """The embedding size for a column of `n_cat` levels: `min(600, round(1.6 * n_cat ** 0.56))`."""
    return min(600, round(1.6 * n_cat**0.56))


def get_emb_sz(to: Any, sz_dict: dict | None = None) -> list[tuple[int, int]]:
    """`(n_levels, size)` for each categorical column of `to`, from `emb_sz_rule` unless `sz_dict[col]` gives the size."""
    sz_dict = dict(sz_dict or {})
    unknown = sorted(str(c) for c in sz_dict if c not in to.cat_names)
    if unknown:
        raise TabularError(f"emb_szs names columns {unknown} that are not categorical columns {to.cat_names}")
    classes = to.classes
    missing = [c for c in to.cat_names if c not in classes]
    if missing:
        raise TabularError(f"categorical columns {missing} have no vocabulary: add Categorify to the procs")
    return [(len(classes[c]), int(sz_dict.get(c, emb_sz_rule(len(classes[c]))))) for c in to.cat_names]


def tabular_config(
    ps: float | Sequence[float] | None = None,
    embed_p: float = 0.0,
    y_range: tuple[float, float] | None = None,
    use_bn: bool = True,
    bn_final: bool = False,
    bn_cont: bool = True,
    act_cls: type[nn.Module] = nn.ReLU,
    lin_first: bool = True,
) -> dict:
    """The keyword arguments of `TabularModel` other than sizes, for `tabular_learner(config=...)`."""
    return {
        "ps": ps,
        "embed_p": embed_p,
        "y_range": y_range,
        "use_bn": use_bn,
        "bn_final": bn_final,
        "bn_cont": bn_cont,
        "act_cls": act_cls,
        "lin_first": lin_first,
    }


@register_serializable
class TabularModel(nn.Module):
    """An MLP over embedded categorical codes and (batch-normalised) continuous values.

    `emb_szs` is `[(n_levels, size), ...]` per categorical column, `layers` the hidden widths,
    `ps` their dropout (one value for all, or one per layer), `embed_p` dropout on the
    embeddings. With `y_range=(low, high)` outputs are squashed into that range.
    """

    def __init__(
        self,
        emb_szs: Sequence[tuple[int, int]],
        n_cont: int,
        out_sz: int,
        layers: Sequence[int],
        ps: float | Sequence[float] | None = None,
        embed_p: float = 0.0,
        y_range: tuple[float, float] | None = None,
        use_bn: bool = True,
        bn_final: bool = False,
        bn_cont: bool = True,
        act_cls: type[nn.Module] = nn.ReLU,
        lin_first: bool = True,
    ):
        super().__init__()
        layers = list(layers)
        if ps is None:
            ps = [0.0] * len(layers)
        elif isinstance(ps, (int, float)):
            ps = [float(ps)] * len(layers)
        if len(ps) != len(layers):
            raise TabularError(f"ps has {len(ps)} dropout values for {len(layers)} layers {layers}")
        if not emb_szs and not n_cont:
            raise TabularError("TabularModel needs at least one categorical or continuous input")
        if out_sz < 1:
            raise TabularError(f"out_sz must be at least 1, got {out_sz}")
        self.embeds = nn.ModuleList([Embedding(n, size) for n, size in emb_szs])
        self.emb_drop = nn.Dropout(embed_p)
        self.bn_cont = nn.BatchNorm1d(n_cont) if bn_cont and n_cont else None
        self.n_emb, self.n_cont = sum(size for _, size in emb_szs), n_cont
        sizes = [self.n_emb + n_cont, *layers, out_sz]
        blocks = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            last = i == len(sizes) - 2
            blocks.append(
                LinBnDrop(
                    n_in,
                    n_out,
                    bn=use_bn and (not last or bn_final),
                    p=0.0 if last else ps[i],
                    act=None if last else act_cls(),
                    lin_first=lin_first,
                )
            )
        if y_range is not None:
            blocks.append(SigmoidRange(*y_range))
        self.layers = nn.Sequential(*blocks)

    def forward(self, x_cat: torch.Tensor, x_cont: torch.Tensor) -> torch.Tensor:
        """Scores (or values) for a batch of categorical codes `(bs, n_cat)` and continuous values `(bs, n_cont)`."""
        parts = []
        if self.n_emb:
            parts.append(self.emb_drop(torch.cat([e(x_cat[:, i]) for i, e in enumerate(self.embeds)], 1)))
        if self.n_cont:
            parts.append(self.bn_cont(x_cont) if self.bn_cont is not None else x_cont)
        return self.layers(torch.cat(parts, 1) if len(parts) > 1 else parts[0])
