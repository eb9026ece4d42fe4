"""Reading what a collaborative-filtering model learned: principal components of its factors, and how well they match known ones.

```python
coords = factor_pca(learn.model, n_components=3)   # one row per item id, columns pc1..pc3
coords.attrs["explained_variance_ratio"]           # the share of variance each component holds
subspace_r2(learn.model.weight(ids), true_factors) # 1.0: the true factors are a linear map of the learned ones
```
The principal components come from an exact singular value decomposition (`torch.linalg.svd`)
of the centred factors — a few thousand rows of a few dozen numbers, so no randomised
approximation is needed — with each component's sign fixed so that results repeat.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from layered.collab.errors import CollabError

__all__ = ["PCA", "factor_pca", "pca", "subspace_r2"]


class PCA(NamedTuple):
    """Principal components: `coords (n, k)` of the rows, `components (k, d)` (unit rows), `explained_variance_ratio (k,)`."""

    coords: torch.Tensor
    components: torch.Tensor
    explained_variance_ratio: torch.Tensor


def _matrix(x: Any, what: str) -> torch.Tensor:
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.array(x, dtype=np.float64))
    if t.ndim != 2:
        raise CollabError(f"{what} must be a matrix (rows, features), got shape {tuple(t.shape)}")
    return t.to(torch.float64)


def pca(x: Any, n_components: int = 3) -> PCA:
    """The first `n_components` principal components of the rows of `x` (a tensor or array `(n, d)`)."""
    x = _matrix(x, "pca: x")
    if not 1 <= n_components <= min(x.shape):
        raise CollabError(
            f"pca: n_components must be between 1 and {min(x.shape)} for shape {tuple(x.shape)}, got {n_components}"
        )
    centred = x - x.mean(0)
    _, s, vh = torch.linalg.svd(centred, full_matrices=False)
    comps = vh[:n_components]
    # an SVD's signs are arbitrary: make each component's largest loading positive
    signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    comps = comps * signs
    total = (s**2).sum()
    ratio = (s[:n_components] ** 2) / total if total > 0 else torch.zeros(n_components, dtype=x.dtype)
    return PCA((centred @ comps.T).float(), comps.float(), ratio.float())


def factor_pca(model: Any, ids: Any = None, n_components: int = 3, is_item: bool = True) -> pd.DataFrame:
    """Principal components of the learned factors of `ids` (default: every known item, or user with `is_item=False`).

    `model` is an `EmbeddingDotBias` or `EmbeddingNN` with vocabularies (as `collab_learner`
    makes it). Returns a DataFrame indexed by id with columns `pc1..pcK`; its
    `attrs["explained_variance_ratio"]` lists the share of variance of each component.
    """
    if not hasattr(model, "weight") or getattr(model, "classes", None) is None:
        raise CollabError(
            f"factor_pca needs a collaborative-filtering model with vocabularies (from collab_learner), got {type(model).__name__}"
        )
    name, vocab = list(model.classes.items())[1 if is_item else 0]
    ids = [v for v in vocab if v != "#na#"] if ids is None else list(ids)
    res = pca(model.weight(ids, is_item=is_item), n_components)
    frame = pd.DataFrame(
        res.coords.numpy(),
        index=pd.Index(ids, name=name),
        columns=[f"pc{k + 1}" for k in range(n_components)],
    )
    frame.attrs["explained_variance_ratio"] = res.explained_variance_ratio.tolist()
    return frame


def subspace_r2(learned: Any, true: Any) -> float:
    """How much of the variance of `true (n, k)` a linear map (plus offset) of `learned (n, f)` explains: 1 is all.

    Factorisations are only defined up to an invertible linear map (`u · v = uA · vA⁻ᵀ`), so
    learned factors are compared with true ones by the least-squares fit of one on the other.
    """
    x, y = _matrix(learned, "learned"), _matrix(true, "true")
    if len(x) != len(y):
        raise CollabError(
            f"subspace_r2: learned has {len(x)} rows but true has {len(y)}; give the same ids in the same order"
        )
    # centring both sides fits the offset
    x, y = x - x.mean(0), y - y.mean(0)
    total = float((y**2).sum())
    if total == 0:
        raise CollabError("subspace_r2: the true factors do not vary, so there is nothing to explain")
    coef = torch.linalg.lstsq(x, y).solution
    return 1.0 - float(((y - x @ coef) ** 2).sum()) / total
