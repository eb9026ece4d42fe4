"""The vision cases of `show_batch` and `show_results`, dispatched on the types of a batch.

The cases registered here take over from layered-data's table view whenever a batch's inputs are
a `TensorImage`: a grid with one Axes per item, each element drawn on it (labels as titles, masks
colour-coded with transparency over the image, points as dots, boxes as rectangles with their
labels). `show_results` adds the predictions: classes as "target / prediction" titles (red when
wrong), masks side by side, points and boxes in a second colour.
"""

from __future__ import annotations

from typing import Any

from layered.core.dispatch import typedispatch
from layered.vision.drawing import axes_grid
from layered.vision.types import LabeledBBox, TensorBBox, TensorImage, TensorMask

__all__ = ["show_batch", "show_results"]


def _is_label(o: Any) -> bool:
    return isinstance(o, (str, list, tuple)) and not isinstance(o, LabeledBBox)


def _draw(sample: tuple, ctx: Any, **kwargs: Any) -> Any:
    """Draw each element of a decoded sample on `ctx`; a box tensor takes the labels that follow it."""
    i = 0
    while i < len(sample):
        o = sample[i]
        if isinstance(o, TensorBBox) and i + 1 < len(sample) and _is_label(sample[i + 1]):
            LabeledBBox(o, sample[i + 1]).show(ctx=ctx, **kwargs)
            i += 2
            continue
        if hasattr(o, "show"):
            o.show(ctx=ctx, **kwargs)
        i += 1
    return ctx


def _as_tuple(o: Any) -> tuple:
    return o if isinstance(o, tuple) else (o,)


@typedispatch
def show_batch(
    x: TensorImage,
    y,
    samples,
    ctxs=None,
    max_n: int = 9,
    nrows: int | None = None,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
    **kwargs,
):
    """Images: a grid, one Axes per item with its targets drawn on it; returns the Axes."""
    samples = samples[:max_n]
    ctxs = ctxs or axes_grid(len(samples), nrows, ncols, figsize)
    for sample, ctx in zip(samples, ctxs):
        _draw(_as_tuple(sample), ctx)
    return ctxs


def _title(ctx: Any, target: Any, pred: Any) -> None:
    def text(o: Any) -> str:
        return ";".join(map(str, o)) if isinstance(o, (list, tuple)) else str(o)

    wrong = text(target) != text(pred)
    ctx.set_title(f"{text(target)} / {text(pred)}", color="red" if wrong else "green")


@typedispatch
def show_results(
    x: TensorImage,
    y,
    samples,
    outs,
    ctxs=None,
    max_n: int = 9,
    nrows: int | None = None,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
    **kwargs,
):
    """Images with predictions: class titles "target / prediction" (red when wrong), coordinates in a second colour."""
    samples, outs = samples[:max_n], outs[:max_n]
    ctxs = ctxs or axes_grid(len(samples), nrows, ncols, figsize)
    for sample, out, ctx in zip(samples, outs, ctxs):
        sample, out = _as_tuple(sample), _as_tuple(out)
        image, targets = sample[0], sample[1:]
        image.show(ctx=ctx)
        if targets and out and all(_is_label(t) for t in targets[:1]) and _is_label(out[0]):
            _title(ctx, targets[0], out[0])
            continue
        _draw(targets, ctx)
        _draw(out, ctx, color="cyan")
    return ctxs


@typedispatch
def show_results(  # noqa: F811 - several cases, dispatched by type
    x: TensorImage,
    y: TensorMask,
    samples,
    outs,
    ctxs=None,
    max_n: int = 9,
    figsize: tuple[float, float] | None = None,
    **kwargs,
):
    """Segmentation: per item, the target mask and the predicted one side by side over the image."""
    samples, outs = samples[:max_n], outs[:max_n]
    ctxs = ctxs or axes_grid(2 * len(samples), ncols=2, figsize=figsize)
    for k, (sample, out) in enumerate(zip(samples, outs)):
        sample, out = _as_tuple(sample), _as_tuple(out)
        for ctx, mask, title in ((ctxs[2 * k], sample[1], "target"), (ctxs[2 * k + 1], out[0], "prediction")):
            sample[0].show(ctx=ctx)
            mask.show(ctx=ctx)
            ctx.set_title(title)
    return ctxs
