"""`collab_learner`: a `Learner` with a collaborative-filtering model sized from the ratings' vocabularies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from layered.collab.dataloaders import CollabDataLoaders
from layered.collab.errors import CollabError
from layered.collab.models import EmbeddingDotBias, EmbeddingNN
from layered.core.delegation import delegates
from layered.tabular.model import get_emb_sz, tabular_config
from layered.train.learner import Learner

__all__ = ["collab_learner"]


@delegates(Learner.__init__)
def collab_learner(
    dls: CollabDataLoaders,
    n_factors: int = 50,
    use_nn: bool = False,
    emb_szs: dict | None = None,
    layers: Sequence[int] | None = None,
    config: dict | None = None,
    y_range: tuple[float, float] | None = None,
    **kwargs: Any,
) -> Learner:
    """A `Learner` over ratings `dls` with `EmbeddingDotBias(n_factors, ...)`, or `EmbeddingNN` when `use_nn`.

    `n_factors` sizes the dot model. For the network, `emb_szs` overrides the embedding sizes per column (`{"user": 64}`; default
    `emb_sz_rule` of each vocabulary), `layers` are the hidden widths (default `[200, 100]`) and
    `config` is `tabular_config(...)`; these three do not apply to the dot model. `y_range`
    squashes predictions into `(low, high)`. The loss defaults to the data's (mean squared error on
    numeric ratings); other keywords go to `Learner` (`metrics`, `wd`, `opt_func`, ...).
    """
    if not isinstance(dls, CollabDataLoaders):
        raise CollabError(
            f"collab_learner needs CollabDataLoaders (from CollabDataLoaders.from_df), got {type(dls).__name__}"
        )
    if use_nn:
        config = {**tabular_config(), **(config or {})}
        if y_range is not None:
            config["y_range"] = y_range
        sizes = get_emb_sz(dls.train_ds, emb_szs)
        model = EmbeddingNN.from_classes(
            sizes, [200, 100] if layers is None else layers, dls.classes, **config
        )
    else:
        given = [
            n for n, v in (("emb_szs", emb_szs), ("layers", layers), ("config", config)) if v is not None
        ]
        if given:
            raise CollabError(f"{', '.join(given)} apply to the network (use_nn=True), not to the dot model")
        model = EmbeddingDotBias.from_classes(n_factors, dls.classes, y_range=y_range)
    return Learner(dls, model, **kwargs)
