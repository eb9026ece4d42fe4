"""`ImageDataLoaders` and `SegmentationDataLoaders`: loaders for common layouts in one call.

```python
dls = ImageDataLoaders.from_folder(path, item_tfms=Resize(64))            # path/train/<label>/...
dls = ImageDataLoaders.from_name_re(path, fnames, r"^(.+)_\\d+\\.jpg$", item_tfms=Resize(64))
dls = SegmentationDataLoaders.from_label_func(path, fnames, mask_of, codes=["bg", "cat"])
```
Every factory builds a `DataBlock` (so `IntToFloatTensor` is among the batch transforms, and one
batch is built before it returns), checks the labels (a label function returning None fails,
naming the file) and, with `skip_bad=True`, drops unreadable images with a warning giving the count.
The loaders know their targets' vocabulary: `dls.vocab` and `dls.c`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from layered.core.collection import L
from layered.core.delegation import delegates
from layered.core.registry import register_serializable
from layered.data.blocks import CategoryBlock, MultiCategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.dataloaders import DataLoaders
from layered.data.getters import ColReader, RegexLabeller, parent_label
from layered.data.splitters import ColSplitter, GrandparentSplitter, RandomSplitter
from layered.vision.blocks import ImageBlock, MaskBlock
from layered.vision.errors import VisionError
from layered.vision.image_io import get_image_files, load_mask, skip_bad_images
from layered.vision.types import PILBase, PILImage

__all__ = ["ImageDataLoaders", "SegmentationDataLoaders"]


@register_serializable
class _Labeller:
    """A getter that fails, naming the item, where the wrapped one returns None.

    It also gives callable objects (e.g. `ColReader`) the plain, unannotated call a type
    transform dispatches on.
    """

    def __init__(self, f: Callable, on: str | None = None, what: str = "label"):
        self.f, self.on, self.what = f, on, what

    @property
    def __name__(self) -> str:
        # a property, not an attribute: exported learners may carry no dunder attributes
        return getattr(self.f, "__name__", type(self.f).__name__)

    def __call__(self, o):  # unannotated: a Transform wrapping this must accept any item
        label = self.f(getattr(o, self.on) if self.on else o)
        if label is None:
            raise VisionError(
                f"the {self.what} function {self.__name__} returned None for {o}; expected a {self.what}"
            )
        return label


@register_serializable
class ImageDataLoaders(DataLoaders):
    """DataLoaders for image classification, with factories for the usual ways labels are given."""

    @classmethod
    def _build(
        cls,
        dblock: DataBlock,
        source: Any,
        path: str | Path,
        bs: int,
        device: Any,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        dls = dblock.dataloaders(source, path=path, bs=bs, device=device, **kwargs)
        return cls(*dls.loaders, path=dls.path, device=device)

    @classmethod
    def from_folder(
        cls,
        path: str | Path,
        train: str = "train",
        valid: str = "valid",
        valid_pct: float | None = None,
        seed: int | None = None,
        vocab: Sequence | None = None,
        item_tfms: Any = None,
        batch_tfms: Any = None,
        img_cls: type[PILBase] = PILImage,
        skip_bad: bool = False,
        bs: int = 64,
        device: Any = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """Images in `path/train/<label>/` and `path/valid/<label>/`, or any folders with `valid_pct`."""
        if valid_pct is None:
            for name in (train, valid):
                if not (Path(path) / name).is_dir():
                    raise VisionError(
                        f"from_folder: no folder {name!r} in {path}; give train=/valid= folder names, "
                        "or valid_pct to split at random"
                    )
            splitter, folders = GrandparentSplitter(train, valid), [train, valid]
        else:
            splitter, folders = RandomSplitter(valid_pct, seed), None
        fnames = get_image_files(path, folders=folders)
        if skip_bad:
            fnames = skip_bad_images(fnames, img_cls.create)
        dblock = DataBlock(
            blocks=(ImageBlock(img_cls), CategoryBlock(vocab=vocab)),
            splitter=splitter,
            get_y=_Labeller(parent_label),
            item_tfms=item_tfms,
            batch_tfms=batch_tfms,
        )
        return cls._build(dblock, fnames, path, bs, device, **kwargs)

    @classmethod
    def _from_func(
        cls,
        path: str | Path,
        fnames: Sequence,
        labeller: Callable,
        valid_pct: float = 0.2,
        seed: int | None = None,
        item_tfms: Any = None,
        batch_tfms: Any = None,
        img_cls: type[PILBase] = PILImage,
        skip_bad: bool = False,
        bs: int = 64,
        device: Any = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        fnames = L(Path(f) for f in fnames)
        if skip_bad:
            fnames = skip_bad_images(fnames, img_cls.create)
        dblock = DataBlock(
            blocks=(ImageBlock(img_cls), CategoryBlock()),
            splitter=RandomSplitter(valid_pct, seed),
            get_y=labeller,
            item_tfms=item_tfms,
            batch_tfms=batch_tfms,
        )
        return cls._build(dblock, fnames, path, bs, device, **kwargs)

    @classmethod
    @delegates(_from_func, keep=True)
    def from_path_func(
        cls, path: str | Path, fnames: Sequence, label_func: Callable, **kwargs: Any
    ) -> ImageDataLoaders:
        """Images `fnames` labelled by `label_func(path_of_file)`, `valid_pct` of them for validation."""
        return cls._from_func(path, fnames, _Labeller(label_func), **kwargs)

    @classmethod
    @delegates(_from_func, keep=True)
    def from_name_func(
        cls, path: str | Path, fnames: Sequence, label_func: Callable, **kwargs: Any
    ) -> ImageDataLoaders:
        """Images `fnames` labelled by `label_func(file_name)` (the name only, no folders)."""
        return cls._from_func(path, fnames, _Labeller(label_func, "name"), **kwargs)

    @classmethod
    @delegates(_from_func, keep=True)
    def from_path_re(cls, path: str | Path, fnames: Sequence, pat: str, **kwargs: Any) -> ImageDataLoaders:
        """Images `fnames` labelled by the first group of regex `pat` searched in the full path."""
        return cls.from_path_func(path, fnames, RegexLabeller(pat), **kwargs)

    @classmethod
    @delegates(_from_func, keep=True)
    def from_name_re(cls, path: str | Path, fnames: Sequence, pat: str, **kwargs: Any) -> ImageDataLoaders:
        """Images `fnames` labelled by the first group of regex `pat` searched in the file name."""
        return cls.from_name_func(path, fnames, RegexLabeller(pat), **kwargs)

    @classmethod
    def from_df(
        cls,
        df: Any,
        path: str | Path = ".",
        valid_pct: float = 0.2,
        seed: int | None = None,
        fn_col: str | int = 0,
        folder: str | None = None,
        suff: str = "",
        label_col: str | int = 1,
        label_delim: str | None = None,
        y_block: TransformBlock | None = None,
        valid_col: str | int | None = None,
        item_tfms: Any = None,
        batch_tfms: Any = None,
        img_cls: type[PILBase] = PILImage,
        skip_bad: bool = False,
        bs: int = 64,
        device: Any = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """Images named in column `fn_col` of `df` (under `path/folder`, with suffix `suff`), labels in `label_col`.

        `label_delim` splits several labels per image (multi-label); `valid_col` marks validation
        rows (else `valid_pct` at random).
        """
        pref = Path(path) / folder if folder is not None else Path(path)
        get_x = _Labeller(ColReader(fn_col, pref=pref, suff=suff), what="file name")
        if skip_bad:
            keep = set(skip_bad_images([get_x(row) for _, row in df.iterrows()], img_cls.create))
            df = df[np.array([get_x(row) in keep for _, row in df.iterrows()], dtype=bool)]
        if y_block is None:
            y_block = MultiCategoryBlock() if label_delim is not None else CategoryBlock()
        splitter = RandomSplitter(valid_pct, seed) if valid_col is None else ColSplitter(valid_col)
        dblock = DataBlock(
            blocks=(ImageBlock(img_cls), y_block),
            get_x=get_x,
            get_y=_Labeller(ColReader(label_col, label_delim=label_delim)),
            splitter=splitter,
            item_tfms=item_tfms,
            batch_tfms=batch_tfms,
        )
        return cls._build(dblock, df, path, bs, device, **kwargs)

    @classmethod
    @delegates(from_df, keep=True)
    def from_csv(
        cls,
        path: str | Path,
        csv_fname: str = "labels.csv",
        header: str | int | None = "infer",
        delimiter: str = ",",
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """`from_df` on the table in `path/csv_fname`."""
        import pandas as pd  # only this factory reads tables

        csv = Path(path) / csv_fname
        if not csv.is_file():
            raise VisionError(f"from_csv: {csv} does not exist")
        return cls.from_df(pd.read_csv(csv, header=header, delimiter=delimiter), path=path, **kwargs)

    @classmethod
    def from_lists(
        cls,
        path: str | Path,
        fnames: Sequence,
        labels: Sequence,
        valid_pct: float = 0.2,
        seed: int | None = None,
        y_block: TransformBlock | None = None,
        item_tfms: Any = None,
        batch_tfms: Any = None,
        img_cls: type[PILBase] = PILImage,
        bs: int = 64,
        device: Any = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """Images `fnames` (relative to `path`, or absolute) with the matching `labels`."""
        if len(fnames) != len(labels):
            raise VisionError(f"from_lists: {len(fnames)} file names but {len(labels)} labels")
        for f, y in zip(fnames, labels):
            if y is None:
                raise VisionError(f"from_lists: the label of {f} is None; expected a label")
        # lists, not tuples: a pipeline would apply the getters to each element of a tuple
        items = [[Path(path) / f, y] for f, y in zip(fnames, labels)]
        dblock = DataBlock(
            blocks=(ImageBlock(img_cls), y_block or CategoryBlock()),
            splitter=RandomSplitter(valid_pct, seed),
            get_x=_first,
            get_y=_second,
            item_tfms=item_tfms,
            batch_tfms=batch_tfms,
        )
        return cls._build(dblock, items, path, bs, device, **kwargs)


@register_serializable
def _first(o):  # unannotated: a getter accepts any item
    return o[0]


@register_serializable
def _second(o):  # unannotated: a getter accepts any item
    return o[1]


def _check_mask_sizes(fnames: Sequence, masks: Sequence) -> None:
    """Fail, naming both files, where a mask's size differs from its image's (headers only, cheap)."""

    def size(fn: Path) -> tuple[int, int]:
        with Image.open(fn) as im:
            w, h = im.size
            # orientations 5-8 rotate by 90 degrees: the upright image has the sides swapped
            return (h, w) if im.getexif().get(0x0112, 1) in (5, 6, 7, 8) else (w, h)

    for fn, mask in zip(fnames, masks):
        try:
            a, b = size(fn), size(mask)
        except OSError:
            continue  # unreadable files are reported, naming them, when they are read
        if a != b:
            raise VisionError(
                f"mask {mask} is {b[0]}x{b[1]} but its image {fn} is {a[0]}x{a[1]}; a mask must have its image's size"
            )


@register_serializable
class SegmentationDataLoaders(ImageDataLoaders):
    """DataLoaders for segmentation: images and masks of class indices."""

    @classmethod
    def from_label_func(
        cls,
        path: str | Path,
        fnames: Sequence,
        label_func: Callable,
        codes: Sequence[str] | None = None,
        valid_pct: float = 0.2,
        seed: int | None = None,
        item_tfms: Any = None,
        batch_tfms: Any = None,
        img_cls: type[PILBase] = PILImage,
        skip_bad: bool = False,
        bs: int = 64,
        device: Any = None,
        **kwargs: Any,
    ) -> SegmentationDataLoaders:
        """Images `fnames` with masks in the files `label_func(fname)`; `codes` names the classes.

        Every mask's size is checked against its image's before anything is decoded.
        """
        labeller = _Labeller(label_func)
        fnames = L(Path(f) for f in fnames)
        if skip_bad:
            fnames = skip_bad_images(fnames, img_cls.create)
            fnames = skip_bad_images(fnames, lambda f: load_mask(labeller(f)))
        _check_mask_sizes(fnames, [labeller(f) for f in fnames])
        dblock = DataBlock(
            blocks=(ImageBlock(img_cls), MaskBlock(codes)),
            splitter=RandomSplitter(valid_pct, seed),
            get_y=labeller,
            item_tfms=item_tfms,
            batch_tfms=batch_tfms,
        )
        return cls._build(dblock, fnames, path, bs, device, **kwargs)
