"""A tabular loader's inference path for graph exports: missing values, normalization and id look-up as a module.

`TabDataLoader.serving_spec(n)` builds it for `layered.train.saving.serving`. The graph takes the
columns as they are before the procs, in two inputs: `categorical` (int64, one column per
categorical column of the data) and `continuous` (float32, NaN for a missing value). What the
procs do to continuous values — `FillMissing` (the fill value, and the `<col>_na` indicator
codes) and `TabularNormalize` — happens inside the graph. A categorical column whose training levels are
all integers (user and item ids, say) is looked up inside the graph too: the input holds the raw
value, and any value training never saw gives code 0 (`#na#`). Other categorical columns (text
levels) are looked up by the server in the sidecar's vocabulary: `code = 1 + levels.index(value)`,
0 for a missing or unseen value — the rule `Categorify` follows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from layered.tabular.procs import Categorify, FillMissing, TabularNormalize
from layered.train.saving.serving import ServingSpec

__all__ = ["TabularServing", "tabular_serving_spec"]


def _is_int_level(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


class TabularServing(nn.Module):
    """Raw categorical values or codes and raw continuous values to the model's `(codes, values)` inputs.

    `lookups[j]` holds the integer levels of raw categorical column j when the graph looks it up
    (empty when the input already holds codes); `sources` says where each model categorical column
    comes from: `("raw", j)` a raw column, `("na", k, code_false, code_true)` the missing-value
    indicator of continuous column k.
    """

    def __init__(
        self,
        lookups: list[list[int]],
        sources: list[tuple],
        fills: list[float | None],
        means: list[float],
        stds: list[float],
        n_inp: int,
    ):
        super().__init__()
        self.n_lookups = len(lookups)
        for j, levels in enumerate(lookups):
            self.register_buffer(f"levels_{j}", torch.tensor(levels, dtype=torch.int64))
        self.looked_up = [bool(levels) for levels in lookups]
        self.sources, self.n_inp = sources, n_inp
        self.fill_mask = [f is not None for f in fills]
        self.register_buffer(
            "fills", torch.tensor([0.0 if f is None else f for f in fills], dtype=torch.float32)
        )
        self.register_buffer("means", torch.tensor(means, dtype=torch.float32))
        self.register_buffer("stds", torch.tensor(stds, dtype=torch.float32))

    def _code(self, column: torch.Tensor, j: int) -> torch.Tensor:
        if not self.looked_up[j]:
            return column
        levels = getattr(self, f"levels_{j}")
        hits = column[:, None] == levels[None, :]
        positions = torch.arange(1, len(levels) + 1, dtype=torch.int64)
        return (hits.to(torch.int64) * positions).sum(1)  # 0 where no level matches: #na#

    def forward(self, *inputs: torch.Tensor) -> tuple:
        cats = inputs[0] if self.n_lookups else None
        conts = inputs[1] if len(inputs) > 1 else (inputs[0] if not self.n_lookups else None)
        columns = []
        for source in self.sources:
            if source[0] == "raw":
                columns.append(self._code(cats[:, source[1]], source[1]))
            else:
                _, k, code_false, code_true = source
                missing = torch.isnan(conts[:, k])
                columns.append(torch.where(missing, code_true, code_false).to(torch.int64))
        batch = (cats if cats is not None else conts).shape[0]
        codes = torch.stack(columns, 1) if columns else torch.zeros(batch, 0, dtype=torch.int64)
        if conts is None:
            return (codes, torch.zeros(batch, 0)) if self.n_inp > 1 else (codes,)
        filled = [
            torch.where(torch.isnan(conts[:, k]), self.fills[k], conts[:, k]) if fill else conts[:, k]
            for k, fill in enumerate(self.fill_mask)
        ]
        values = (torch.stack(filled, 1) - self.means) / self.stds if filled else conts
        return (codes, values) if self.n_inp > 1 else (codes,)


def _procs(to: Any, cls: type) -> list:
    return [p for p in to.procs.fs if isinstance(p, cls) and p is not to.y_proc]


def tabular_serving_spec(dl: Any, n: int) -> ServingSpec:
    """The graph inputs, preprocessing module and sidecar description of a tabular (or collab) loader."""
    to = dl.dataset
    fill = next(iter(_procs(to, FillMissing)), None)
    norm = next(iter(_procs(to, TabularNormalize)), None)
    classes = {}
    for p in _procs(to, Categorify):
        classes.update(p.classes)
    na_of = {f"{c}_na": c for c in (fill.na_cols if fill is not None and fill.add_col else [])}
    raw_cats = [c for c in to.cat_names if c not in na_of]
    conts = list(to.cont_names)
    lookups = []
    for c in raw_cats:
        levels = classes.get(c, ["#na#"])[1:]
        lookups.append([int(v) for v in levels] if levels and all(_is_int_level(v) for v in levels) else [])
    sources = []
    for c in to.cat_names:
        if c in na_of:
            vocab = classes.get(c, ["#na#", False, True])
            sources.append(("na", conts.index(na_of[c]), vocab.index(False), vocab.index(True)))
        else:
            sources.append(("raw", raw_cats.index(c)))
    fills = [fill.fill_vals.get(c) if fill is not None else None for c in conts]
    means = [norm.means.get(c, 0.0) if norm is not None else 0.0 for c in conts]
    stds = [norm.stds.get(c, 1.0) if norm is not None else 1.0 for c in conts]
    module = TabularServing(lookups, sources, fills, means, stds, to.n_inp)
    example = _example(to, raw_cats, conts, lookups, classes, means, stds, n)
    names = (["categorical"] if raw_cats else []) + (["continuous"] if conts and to.n_inp > 1 else [])
    outside = {
        "categorical": {
            "columns": raw_cats,
            "in_graph": {c: bool(lk) for c, lk in zip(raw_cats, lookups)},
            "levels": {c: [_json_level(v) for v in classes.get(c, ["#na#"])[1:]] for c in raw_cats},
            "rule": "a column looked up in the graph takes its raw integer value (unseen values give #na#); "
            "any other takes code 1 + levels.index(value), 0 for a missing or unseen value",
        },
        "continuous": {"columns": conts, "dtype": "float32", "missing": "NaN"} if to.n_inp > 1 else None,
        "graph_steps": [type(p).__name__ for p in (fill, norm) if p is not None],
    }
    classes = [_json_level(v) for v in to.y_proc.vocab] if to.is_classification else None
    return ServingSpec(names, example[: len(names)], module, outside, [{} for _ in names], classes)


def _json_level(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v if isinstance(v, (str, int, float, bool)) else str(v)


def _example(to, raw_cats, conts, lookups, classes, means, stds, n: int) -> tuple:
    """`n` rows of the data as graph inputs: raw ids or codes, and continuous values before normalization."""
    tensors = to.tensors
    rows = min(n, len(to)) or 1
    cat_codes = tensors[0][:rows] if len(to) else torch.zeros(rows, len(to.cat_names), dtype=torch.int64)
    cats = []
    for j, c in enumerate(raw_cats):
        codes = cat_codes[:, to.cat_names.index(c)]
        if lookups[j]:
            levels = torch.tensor([0, *lookups[j]])  # code 0 (#na#) becomes 0, unseen in training ids or not
            codes = levels[codes]
        cats.append(codes)
    out = [torch.stack(cats, 1) if cats else torch.zeros(rows, 0, dtype=torch.int64)]
    if to.n_inp > 1 and conts:
        values = tensors[1][:rows] if len(to) else torch.zeros(rows, len(conts))
        out.append(
            values * torch.tensor(stds, dtype=torch.float32) + torch.tensor(means, dtype=torch.float32)
        )
    return tuple(out) if raw_cats else tuple(out[1:])
