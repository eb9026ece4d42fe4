"""Test-time augmentation: average predictions over augmented copies of a dataset, mixed with the plain ones.

The augmented copies are either `n` passes with the training transforms (random, so each pass
differs), or one pass per transform of a fixed set (`tfms`, e.g. the 8 symmetries of vision's
`dihedral_views()`), each added to the plain loader's batch transforms. The predictions of the
views are averaged as they are: that suits predictions that do not move with the image
(classes, values), not masks or points, which would first need the view undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from layered.train.errors import TrainError

__all__ = ["augmented_loader", "tta", "view_loader"]


def augmented_loader(dl: Any) -> Any:
    """A copy of `dl` over the same items, in order, run as the training subset: augmentations included."""
    ds = getattr(dl, "dataset", None)
    tls = getattr(ds, "tls", None)
    if not (hasattr(dl, "new") and tls):
        raise TrainError(
            "tta needs a layered TfmdDL over Datasets (e.g. from a DataBlock) to replay the training "
            f"augmentation on its items; got {type(dl).__name__} over {type(ds).__name__}"
        )
    # the loader's pipelines follow its dataset's split: as split 0, the train-only transforms run too
    train_view = type(ds)(
        tls=[tl.new(tl.items, split_idx=0) for tl in tls], n_inp=ds.n_inp, dl_type=ds.dl_type
    )
    return dl.new(train_view, shuffle=False, drop_last=False)


def view_loader(dl: Any, tfm: Any) -> Any:
    """A copy of `dl` whose batches also go through the batch transform `tfm` (on every split)."""
    after_batch = getattr(dl, "after_batch", None)
    if not (hasattr(dl, "new") and hasattr(after_batch, "fs")):
        raise TrainError(
            f"tta(tfms=...) adds each transform to the loader's batch transforms and needs a layered "
            f"TfmdDL; got {type(dl).__name__}"
        )
    if getattr(tfm, "split_idx", None) is not None:
        raise TrainError(
            f"tta(tfms=...): {tfm!r} runs on split {tfm.split_idx} only, so it would leave the "
            "validation batches as they are; give transforms that run on every split (e.g. vision's "
            "FixedDihedral, FixedFlip)"
        )
    return dl.new(after_batch=[*after_batch.fs, tfm])


def tta(
    learn: Any,
    ds_idx: int = 1,
    dl: Any = None,
    n: int = 4,
    beta: float | None = 0.25,
    use_max: bool = False,
    tfms: Sequence[Any] | None = None,
) -> tuple[Any, torch.Tensor]:
    """Predictions of Learner `learn` over `dl` (default: loader `ds_idx`) with test-time augmentation, and the targets.

    The `n` passes over the items with the training transforms, or, with `tfms`, one pass per
    transform of that fixed set (each added to the plain batch transforms, see `view_loader`),
    are averaged (or, with `use_max`, their element-wise maximum is taken); the result is
    `(1 - beta) * augmented + beta * plain` (with `use_max`, the maximum of both). With
    `beta=None`, `(augmented, plain)` is returned.
    """
    if tfms is None and n < 1:
        raise TrainError(f"tta: n is the number of augmented passes and must be >= 1, got {n}")
    if tfms is not None and not len(tfms):
        raise TrainError("tta: tfms is an empty set of views; give at least one transform")
    if beta is not None and not 0.0 <= beta <= 1.0:
        raise TrainError(f"tta: beta weighs the plain predictions and must be in [0, 1], got {beta}")
    dl = learn.dls[ds_idx] if dl is None else dl
    if tfms is None:
        aug_dl = augmented_loader(dl)
        passes = torch.stack([learn.get_preds(dl=aug_dl)[0] for _ in range(n)])
    else:
        passes = torch.stack([learn.get_preds(dl=view_loader(dl, tfm))[0] for tfm in tfms])
    augmented = passes.max(0).values if use_max else passes.mean(0)
    preds, targs = learn.get_preds(dl=dl)
    if beta is None:
        return (augmented, preds), targs
    if use_max:
        return torch.maximum(augmented, preds), targs
    return torch.lerp(augmented, preds, beta), targs
