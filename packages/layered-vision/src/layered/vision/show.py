"""Drawing vision data with matplotlib (imported when something is drawn).

`show_image` draws one image, mask or tensor on an Axes; `show_images` a grid of them. The
`show_batch` and `show_results` cases registered here take over from layered-data's table view
whenever a batch's inputs are a `TensorImage`: a grid with one Axes per item, each element drawn
on it (labels as titles, masks colour-coded with transparency over the image, points as dots,
boxes as rectangles with their labels). `show_results` adds the predictions: classes as
"target / prediction" titles (red when wrong), masks side by side, points and boxes in a second
colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from layered.core.dispatch import typedispatch
from layered.vision.errors import VisionError
from layered.vision.types import LabeledBBox, TensorBBox, TensorImage, TensorMask, TensorPoint

__all__ = ["show_batch", "show_boxes", "show_image", "show_images", "show_points", "show_results"]

_NA = "#na#"


def _pixels(im: Any) -> np.ndarray:
    """An image as an `H×W` or `H×W×C` array: PIL images and arrays as they are, tensors from `C×H×W`."""
    if isinstance(im, Image.Image):
        a = np.asarray(im)
    elif isinstance(im, torch.Tensor):
        t = im.detach().cpu().as_subclass(torch.Tensor)
        a = (t.permute(1, 2, 0) if t.ndim == 3 else t).numpy()
    else:
        a = np.asarray(im)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3):
        raise VisionError(f"show_image: cannot draw an array of shape {a.shape}; expected one image")
    return a


def _new_axes(figsize: tuple[float, float] | None = None) -> Any:
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def show_image(
    im: Any,
    ctx: Any = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Any:
    """Draw `im` (PIL image, `C×H×W` tensor or `H×W[×C]` array) on `ctx` (a new Axes if None); return the Axes."""
    a = _pixels(im)
    ctx = _new_axes(figsize) if ctx is None else ctx
    ctx.imshow(a, **kwargs)
    ctx.set_axis_off()
    if title is not None:
        ctx.set_title(title)
    return ctx


def _grid(
    n: int, nrows: int | None = None, ncols: int | None = None, figsize: tuple[float, float] | None = None
) -> list:
    """`n` Axes in a grid (square-ish unless `nrows`/`ncols` say), the unused ones hidden."""
    import matplotlib.pyplot as plt

    if n < 1:
        raise VisionError("nothing to show: no items")
    ncols = ncols or (math.ceil(n / nrows) if nrows else math.ceil(math.sqrt(n)))
    nrows = nrows or math.ceil(n / ncols)
    _, axs = plt.subplots(nrows, ncols, figsize=figsize or (3 * ncols, 3 * nrows), squeeze=False)
    axs = list(axs.flat)
    for ax in axs[n:]:
        ax.set_axis_off()
    return axs[:n]


def show_images(
    ims: Sequence,
    nrows: int | None = None,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    **kwargs: Any,
) -> list:
    """Draw `ims` in a grid, with `titles`; return the Axes."""
    if titles is not None and len(titles) != len(ims):
        raise VisionError(f"show_images: {len(titles)} titles for {len(ims)} images")
    axs = _grid(len(ims), nrows, ncols)
    for i, (im, ax) in enumerate(zip(ims, axs)):
        show_image(im, ctx=ax, title=None if titles is None else titles[i], **kwargs)
    return axs


def _image_size(ctx: Any, img_size: Any) -> tuple[int, int]:
    """`(width, height)`: as recorded, else of the image already drawn on `ctx`."""
    if img_size is not None:
        return tuple(img_size)
    images = ctx.get_images() if ctx is not None else []
    if not images:
        raise VisionError("cannot place coordinates in [-1, 1]: no img_size recorded and no image drawn")
    h, w = images[0].get_array().shape[:2]
    return w, h


def show_points(pts: TensorPoint, ctx: Any = None, color: str = "red", s: float = 20, **kwargs: Any) -> Any:
    """Draw points (in [-1, 1]) as dots on the image of `ctx`; return the Axes."""
    ctx = _new_axes() if ctx is None else ctx
    px = pts.to_pixels(_image_size(ctx, getattr(pts, "img_size", None))).reshape(-1, 2)
    # pixel edges are at 0..w, imshow puts pixel centres at 0..w-1
    ctx.scatter(px[:, 0] - 0.5, px[:, 1] - 0.5, color=color, s=s, **kwargs)
    return ctx


def show_boxes(
    bbox: TensorBBox,
    labels: Sequence[str] | None = None,
    ctx: Any = None,
    color: str = "yellow",
    **kwargs: Any,
) -> Any:
    """Draw boxes (in [-1, 1]) with their `labels` on the image of `ctx`; empty and `#na#` ones are skipped."""
    from matplotlib.patches import Rectangle

    ctx = _new_axes() if ctx is None else ctx
    px = bbox.to_pixels(_image_size(ctx, getattr(bbox, "img_size", None))).reshape(-1, 4).tolist()
    labels = [None] * len(px) if labels is None else list(labels)
    for (x1, y1, x2, y2), label in zip(px, labels):
        if x2 <= x1 or y2 <= y1 or label == _NA:
            continue
        ctx.add_patch(
            Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=color, lw=2, **kwargs)
        )
        if label is not None:
            ctx.text(
                x1 - 0.5,
                y1 - 0.5,
                str(label),
                color="black",
                fontsize=8,
                va="bottom",
                bbox={"facecolor": color, "alpha": 0.7, "pad": 1, "edgecolor": "none"},
            )
    return ctx


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
    ctxs = ctxs or _grid(len(samples), nrows, ncols, figsize)
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
    ctxs = ctxs or _grid(len(samples), nrows, ncols, figsize)
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
    ctxs = ctxs or _grid(2 * len(samples), ncols=2, figsize=figsize)
    for k, (sample, out) in enumerate(zip(samples, outs)):
        sample, out = _as_tuple(sample), _as_tuple(out)
        for ctx, mask, title in ((ctxs[2 * k], sample[1], "target"), (ctxs[2 * k + 1], out[0], "prediction")):
            sample[0].show(ctx=ctx)
            mask.show(ctx=ctx)
            ctx.set_title(title)
    return ctxs
