"""`tabular_learner`: a `Learner` with a `TabularModel` sized from the data, for classification or regression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from layered.core.delegation import delegates
from layered.tabular.errors import TabularError
from layered.tabular.model import TabularModel, get_emb_sz, tabular_config
from layered.train.learner import Learner

__all__ = ["tabular_learner"]


@delegates(Learner.__init__)
def tabular_learner(
    dls: Any,
    layers: Sequence[int] | None = None,
    emb_szs: dict | None = None,
    config: dict | None = None,
    n_out: int | None = None,
    y_range: tuple[float, float] | None = None,
    **kwargs: Any,
) -> Learner:
    """A `Learner` over tabular `dls` with a `TabularModel` of hidden `layers` (default `[200, 100]`).

    The task follows the targets: class labels give `n_out` classes and cross entropy, numbers
    give one output per target column and mean squared error (the loss comes from `dls`).
    `emb_szs` overrides embedding sizes per column (`{"col": size}`), `config` is
    `tabular_config(...)` (dropout, batch norm, activation), `y_range` squashes regression
    outputs into `(low, high)`. Other keywords go to `Learner` (`metrics`, `loss_func`, `opt_func`, ...).
    """
    to = dls.train_ds
    config = {**tabular_config(), **(config or {})}
    if y_range is not None:
        config["y_range"] = y_range
    n_out = n_out if n_out is not None else to.c
    if n_out is None:
        raise TabularError(
            "tabular_learner could not tell the number of outputs: the data has no targets; pass n_out="
        )
    model = TabularModel(
        get_emb_sz(to, emb_szs), len(to.cont_names), n_out, [200, 100] if layers is None else layers, **config
    )
    return Learner(dls, model, **kwargs)
