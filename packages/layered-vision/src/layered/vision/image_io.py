"""Reading image files: clear errors naming the file, EXIF orientation, conversions users expect.

```python
im = load_image("photo.jpg")            # RGB, upright, whatever the file's mode
mask = load_mask("mask.png")            # class indices (mode "L"), palette indices kept as they are
files = skip_bad_images(get_image_files(path))  # opt-in: drop unreadable files, warn with the count
```
Conversions to RGB or greyscale: a transparent image (RGBA, LA, or a palette with transparency) is
laid on white rather than on whatever colour hides under transparent pixels; 16-bit and 32-bit
greyscale is scaled to 8 bits (PIL's own conversion would clip it to white); float images in [0, 1]
are scaled to [0, 255]. A mask keeps its values: palette masks give their indices, not colours.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from layered.core.collection import L
from layered.data.getters import get_files
from layered.vision.errors import ImageReadError

__all__ = [
    "convert_image",
    "get_image_files",
    "image_extensions",
    "load_image",
    "load_mask",
    "mask_values",
    "skip_bad_images",
    "verify_images",
]

_TRANSPARENT = ("RGBA", "LA", "PA", "RGBa", "La")
_WIDE_INT = ("I", "I;16", "I;16B", "I;16L", "I;16N")
_READ_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def image_extensions() -> set[str]:
    """The file extensions (lower case, with the dot) that PIL can open here."""
    return {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}


def get_image_files(path: str | Path, recurse: bool = True, folders: str | Iterable[str] | None = None) -> L:
    """The image files under `path` (by extension), sorted; optionally only top-level `folders`."""
    return get_files(path, extensions=image_extensions(), recurse=recurse, folders=folders)


def _open(fn: str | Path) -> Image.Image:
    """The decoded, upright image in file `fn`, in the file's own mode."""
    path = Path(fn)
    if not path.is_file():
        raise ImageReadError(f"cannot read image {path}: no such file")
    try:
        with Image.open(path) as im:
            im.load()  # decode now, so that a truncated file fails here, naming this file
            return ImageOps.exif_transpose(im)
    except _READ_ERRORS as e:
        raise ImageReadError(f"cannot read {path} as an image: {e}") from e


def _on_white(im: Image.Image) -> Image.Image:
    """An image with transparency laid on a white background (RGB)."""
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_8bit(im: Image.Image) -> Image.Image:
    """A wide integer or float greyscale image scaled to mode "L"."""
    a = np.asarray(im)
    if im.mode == "F":
        a = a * 255.0 if a.size and np.nanmax(a) <= 1.0 else a
    elif im.mode.startswith("I;16") or (a.size and a.max() > 255):
        a = a / 257.0  # 65535 -> 255: the full 16-bit range onto 8 bits
    return Image.fromarray(np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8), "L")


def convert_image(im: Image.Image, mode: str = "RGB") -> Image.Image:
    """`im` in `mode` ("RGB" or "L"), converted as described in the module docs."""
    if im.mode in _TRANSPARENT or (im.mode == "P" and "transparency" in im.info):
        im = _on_white(im)
    elif im.mode in _WIDE_INT or im.mode == "F":
        im = _to_8bit(im)
    return im if im.mode == mode else im.convert(mode)


def load_image(fn: str | Path, mode: str = "RGB") -> Image.Image:
    """Read file `fn` as an upright 8-bit image in `mode` ("RGB" or "L"); errors name the file."""
    return convert_image(_open(fn), mode)


def mask_values(im: Image.Image, name: str = "mask") -> Image.Image:
    """`im` as class indices (mode "L"): palette indices kept; a colour mask must be grey; values 0-255.

    Colour-coded masks must be mapped to indices first; `name` (a file) goes into the error.
    """
    a = np.asarray(im)
    if a.ndim == 3:
        channels = a[..., :3] if im.mode in ("RGB", "RGBA") else a[..., :1]
        if (channels != channels[..., :1]).any():
            raise ImageReadError(
                f"mask {name} is a colour image (mode {im.mode}); expected one channel of class "
                "indices (mode L or P): map its colours to indices first"
            )
        a = channels[..., 0]
    if a.dtype != np.uint8:
        if a.size and (a.min() < 0 or a.max() > 255 or (a != np.round(a)).any()):
            raise ImageReadError(
                f"mask {name} holds values in [{a.min()}, {a.max()}]; expected integer class indices 0-255"
            )
        a = a.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a), "L")


def load_mask(fn: str | Path) -> Image.Image:
    """Read file `fn` as a mask of class indices (see `mask_values`); errors name the file."""
    return mask_values(_open(fn), str(fn))


def verify_images(fns: Iterable[str | Path], reader: Callable = load_image) -> L:
    """The files among `fns` that `reader` cannot read (each fully decoded once)."""
    bad = L()
    for fn in fns:
        try:
            reader(fn)
        except ImageReadError:
            bad.append(fn)
    return bad


def skip_bad_images(fns: Iterable[str | Path], reader: Callable = load_image) -> L:
    """`fns` without the files `reader` cannot read; warns with how many were skipped and which."""
    fns = L(fns)
    bad = set(verify_images(fns, reader))
    if bad:
        names = ", ".join(str(f) for f in sorted(bad, key=str)[:5])
        more = "" if len(bad) <= 5 else f" and {len(bad) - 5} more"
        warnings.warn(
            f"skipped {len(bad)} of {len(fns)} image files that cannot be read: {names}{more}",
            stacklevel=2,
        )
    return fns.filter(lambda f: f not in bad)
