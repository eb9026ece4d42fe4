"""The 1,797 real 8×8 handwritten digits that scikit-learn ships, written as PNG files in class folders.

```python
path = digits_folder()               # ~/.layered/data/digits/{train,valid}/<digit>/<index>.png
dls = ImageDataLoaders.from_folder(path, item_tfms=Resize(32))
```
scikit-learn keeps each pixel as an integer from 0 (paper) to 16 (ink); the files hold it as
8-bit greyscale, `round(v * 255 / 16)`, so ink is bright on black. File `<index>.png` is row
`index` of `sklearn.datasets.load_digits()`. A fixed, seeded 20% of each class is in `valid/`.
The folder is written once, into a temporary folder beside it that is then renamed, so a run
that stops half-way leaves nothing that looks finished; later calls return it unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from layered.data.config import Config
from layered.vision.errors import VisionError

__all__ = ["DIGITS_VALID_PCT", "digits_folder", "digits_pixels"]

DIGITS_VALID_PCT = 0.2
_SEED = 42


def digits_pixels(values: np.ndarray) -> np.ndarray:
    """scikit-learn's digit intensities (0-16) as the 8-bit values written to the files (0-255)."""
    return np.rint(np.asarray(values, dtype=np.float64) * (255 / 16)).astype(np.uint8)


def _valid_mask(targets: np.ndarray) -> np.ndarray:
    """True for the items in the validation set: a seeded `DIGITS_VALID_PCT` of every class."""
    rng = np.random.default_rng(_SEED)
    valid = np.zeros(len(targets), dtype=bool)
    for c in np.unique(targets):
        idxs = np.flatnonzero(targets == c)
        valid[rng.choice(idxs, size=round(len(idxs) * DIGITS_VALID_PCT), replace=False)] = True
    return valid


def _write(folder: Path, size: int | None) -> None:
    """Write every digit into `folder/{train,valid}/<digit>/<index>.png`."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    valid = _valid_mask(digits.target)
    for split in ("train", "valid"):
        for c in np.unique(digits.target):
            (folder / split / str(c)).mkdir(parents=True)
    for i, (pixels, target) in enumerate(zip(digits.images, digits.target)):
        im = Image.fromarray(digits_pixels(pixels))  # 2-D uint8: mode "L"
        if size is not None:
            im = im.resize((size, size), Image.Resampling.BICUBIC)
        im.save(folder / ("valid" if valid[i] else "train") / str(target) / f"{i:04d}.png")


def digits_folder(dest: str | os.PathLike | None = None, size: int | None = None) -> Path:
    """The folder of digit PNGs (written on the first call); `size` upsamples them (bicubic) to size×size.

    `dest` defaults to `digits` (or `digits_<size>`) in the layered data folder (`$LAYERED_HOME/data`).
    """
    if size is not None and (not isinstance(size, int) or size < 1):
        raise VisionError(
            f"digits_folder: size must be a positive int (pixels per side) or None, got {size!r}"
        )
    folder = (
        Path(dest) if dest is not None else Config().data / ("digits" if size is None else f"digits_{size}")
    )
    if folder.exists():
        if not ((folder / "train").is_dir() and (folder / "valid").is_dir()):
            raise VisionError(
                f"digits_folder: {folder} exists but has no train/ and valid/ folders; expected a digits "
                "folder written by digits_folder (remove it, or give another dest)"
            )
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        _write(tmp, size)
        os.replace(tmp, folder)
    except OSError:
        # another process may have finished the same folder first: keep theirs
        if not (folder / "valid").is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
