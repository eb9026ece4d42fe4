"""The two collaborative-filtering models: matrix factorisation with biases, and a tabular network on two embeddings.

Both take a batch of codes `(bs, 2)` — user then item, as `CollabDataLoaders` makes them — and
return one predicted rating per row, `(bs, 1)`. Built by `collab_learner` (or `from_classes`),
they keep the user and item vocabularies in `classes`, so their learned factors can be read
by id: `model.weight([id, ...])`, and for `EmbeddingDotBias` `model.bias([id, ...])`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from layered.collab.errors import CollabError
from layered.core.registry import register_serializable
from layered.tabular.model import TabularModel
from layered.train.nn.layers import Embedding, SigmoidRange

__all__ = ["EmbeddingDotBias", "EmbeddingNN"]


def _check_codes(x: torch.Tensor, model: str) -> None:
    if x.ndim != 2 or x.shape[1] != 2:
        raise CollabError(f"{model} takes codes of shape (bs, 2) (user, item), got shape {tuple(x.shape)}")


def _check_classes(classes: dict) -> dict:
    if not isinstance(classes, dict) or len(classes) != 2:
        raise CollabError(
            f"classes must be a dict of two vocabularies {{user_name: [...], item_name: [...]}}, got {classes!r:.100}"
        )
    return {k: list(v) for k, v in classes.items()}


@register_serializable
class _IdLookup:
    """Reading an embedding by user or item id, through the vocabularies in `classes` (user first)."""

    classes: dict | None

    def _codes(self, ids: Any, is_item: bool) -> torch.Tensor:
        if self.classes is None:
            raise CollabError(
                f"this {type(self).__name__} has no vocabularies to look ids up in: build it with "
                "collab_learner or from_classes, or set model.classes = dls.classes"
            )
        name, vocab = list(self.classes.items())[1 if is_item else 0]
        ids = [ids] if isinstance(ids, str) or not isinstance(ids, Iterable) else list(ids)
        codes = pd.Index(vocab).get_indexer(ids)
        unknown = [i for i, c in zip(ids, codes) if c < 0]
        if unknown:
            raise CollabError(
                f"{len(unknown)} id(s) are not in the {name!r} vocabulary ({len(vocab)} ids), e.g. {unknown[:5]}"
            )
        return torch.as_tensor(codes, dtype=torch.long)

    def _read(self, layer: nn.Embedding, ids: Any, is_item: bool) -> torch.Tensor:
        codes = self._codes(ids, is_item).to(layer.weight.device)
        return layer.weight.detach()[codes].cpu()


@register_serializable
class EmbeddingDotBias(_IdLookup, nn.Module):
    """Matrix factorisation with biases: `rating = user · item + user_bias + item_bias`.

    `n_users` and `n_items` count the codes (`#na#` included). With `y_range=(low, high)` the
    result is squashed into that range by a scaled sigmoid.
    """

    def __init__(
        self, n_factors: int, n_users: int, n_items: int, y_range: tuple[float, float] | None = None
    ):
        super().__init__()
        if min(n_factors, n_users, n_items) < 1:
            raise CollabError(
                f"EmbeddingDotBias needs positive sizes, got n_factors={n_factors}, n_users={n_users}, n_items={n_items}"
            )
        if y_range is not None and not y_range[1] > y_range[0]:
            raise CollabError(f"y_range must be (low, high) with low < high, got {y_range}")
        self.u_weight, self.i_weight = Embedding(n_users, n_factors), Embedding(n_items, n_factors)
        self.u_bias, self.i_bias = Embedding(n_users, 1), Embedding(n_items, 1)
        self.y_range = None if y_range is None else SigmoidRange(float(y_range[0]), float(y_range[1]))
        self.classes: dict | None = None

    @classmethod
    def from_classes(
        cls, n_factors: int, classes: dict, y_range: tuple[float, float] | None = None
    ) -> EmbeddingDotBias:
        """A model sized for the vocabularies `classes` (`{user_name: [...], item_name: [...]}`, e.g. `dls.classes`), kept for id look-ups."""
        classes = _check_classes(classes)
        n_users, n_items = (len(v) for v in classes.values())
        model = cls(n_factors, n_users, n_items, y_range=y_range)
        model.classes = classes
        return model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted ratings `(bs, 1)` for codes `(bs, 2)` (user, item)."""
        _check_codes(x, "EmbeddingDotBias")
        users, items = x[:, 0], x[:, 1]
        dot = (self.u_weight(users) * self.i_weight(items)).sum(1, keepdim=True)
        res = dot + self.u_bias(users) + self.i_bias(items)
        return res if self.y_range is None else self.y_range(res)

    def bias(self, ids: Any, is_item: bool = True) -> torch.Tensor:
        """The learned biases `(n,)` of item ids (or user ids, `is_item=False`), detached, on the CPU."""
        return self._read(self.i_bias if is_item else self.u_bias, ids, is_item)[:, 0]

    def weight(self, ids: Any, is_item: bool = True) -> torch.Tensor:
        """The learned factors `(n, n_factors)` of item ids (or user ids, `is_item=False`), detached, on the CPU."""
        return self._read(self.i_weight if is_item else self.u_weight, ids, is_item)


@register_serializable
class EmbeddingNN(_IdLookup, TabularModel):
    """A `TabularModel` on the user and item embeddings only: `emb_szs` is `[(n_users, size), (n_items, size)]`.

    Other keywords are `TabularModel`'s (`ps`, `embed_p`, `y_range`, `use_bn`, ...); it has one output.
    """

    def __init__(self, emb_szs: Sequence[tuple[int, int]], layers: Sequence[int], **kwargs: Any):
        if len(emb_szs) != 2:
            raise CollabError(f"EmbeddingNN takes two embedding sizes (user, item), got {list(emb_szs)}")
        super().__init__(emb_szs, n_cont=0, out_sz=1, layers=layers, **kwargs)
        self.classes: dict | None = None

    @classmethod
    def from_classes(
        cls, emb_szs: Sequence[tuple[int, int]], layers: Sequence[int], classes: dict, **kwargs: Any
    ) -> EmbeddingNN:
        """A model whose embeddings match the vocabularies `classes` (e.g. `dls.classes`), kept for id look-ups."""
        classes = _check_classes(classes)
        counts = [len(v) for v in classes.values()]
        if [n for n, _ in emb_szs] != counts:
            raise CollabError(
                f"emb_szs {list(emb_szs)} do not match the vocabulary sizes {counts} of classes"
            )
        model = cls(emb_szs, layers, **kwargs)
        model.classes = classes
        return model

    def forward(self, x_cat: torch.Tensor, x_cont: torch.Tensor | None = None) -> torch.Tensor:
        """Predicted ratings `(bs, 1)` for codes `(bs, 2)` (user, item); there are no continuous inputs."""
        _check_codes(x_cat, "EmbeddingNN")
        return super().forward(x_cat, x_cont)

    def weight(self, ids: Any, is_item: bool = True) -> torch.Tensor:
        """The learned embeddings `(n, size)` of item ids (or user ids, `is_item=False`), detached, on the CPU."""
        return self._read(self.embeds[1 if is_item else 0], ids, is_item)
