"""Drawing on matplotlib Axes (matplotlib is imported when something is drawn): images, points, boxes.

`show_image` draws one image, mask or tensor on an Axes; `show_images` a grid of them;
`show_points` and `show_boxes` draw coordinates in [-1, 1] over the image already on an Axes.
The vision types' `show` methods and the `show_batch`/`show_results` cases (`layered.vision.show`)
draw with these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from layered.vision.errors import VisionError

__all__ = ["axes_grid", "show_boxes", "show_image", "show_images", "show_points"]

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


def axes_grid(
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
    axs = axes_grid(len(ims), nrows, ncols)
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


def show_points(pts: Any, ctx: Any = None, color: str = "red", s: float = 20, **kwargs: Any) -> Any:
    """Draw points (a `TensorPoint`, in [-1, 1]) as dots on the image of `ctx`; return the Axes."""
    ctx = _new_axes() if ctx is None else ctx
    px = pts.to_pixels(_image_size(ctx, getattr(pts, "img_size", None))).reshape(-1, 2)
    # pixel edges are at 0..w, imshow puts pixel centres at 0..w-1
    ctx.scatter(px[:, 0] - 0.5, px[:, 1] - 0.5, color=color, s=s, **kwargs)
    return ctx


def show_boxes(
    bbox: Any,
    labels: Sequence[str] | None = None,
    ctx: Any = None,
    color: str = "yellow",
    **kwargs: Any,
) -> Any:
    """Draw boxes (a `TensorBBox`, in [-1, 1]) with their `labels` on the image of `ctx`; empty and `#na#` ones are skipped."""
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
