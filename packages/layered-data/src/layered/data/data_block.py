"""The data block API: describe how raw items become batches, then build Datasets or DataLoaders.

```python
dblock = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files,
                   splitter=RandomSplitter(0.2, seed=42), get_y=parent_label,
                   item_tfms=Resize(64), batch_tfms=aug_transforms())
dls = dblock.dataloaders(path, bs=64)
```
"""

from __future__ import annotations

from collections.abc import Callable

from layered.core.collection import L
from layered.core.transform import Transform
from layered.data.blocks import TransformBlock
from layered.data.categorize import Categorize
from layered.data.datasets import Datasets
from layered.data.errors import DataError
from layered.data.splitters import RandomSplitter, check_splits

__all__ = ["DataBlock"]


def _as_list(x) -> list:
    return [] if x is None else list(x) if isinstance(x, (list, tuple, L)) else [x]


def _merge_tfms(*lists) -> list:
    """Concatenate transform lists, keeping the first transform of each class and `split_idx` (blocks share defaults).

    A training-only transform and its validation counterpart (same class, `split_idx` 0 and 1,
    such as the resize `aug_transforms(size=...)` gives each subset) are both kept.
    """
    seen, out = set(), []
    for tfm in (t for lst in lists for t in _as_list(lst)):
        key = (tfm, None) if isinstance(tfm, type) else (type(tfm), getattr(tfm, "split_idx", None))
        if key not in seen or not hasattr(tfm, "encodes"):
            seen.add(key)
            out.append(tfm() if isinstance(tfm, type) else tfm)
    return out


class DataBlock:
    """A blueprint for data: blocks, how to get items, how to split them and how to label them."""

    def __init__(
        self,
        blocks=None,
        dl_type=None,
        getters=None,
        n_inp: int | None = None,
        item_tfms=None,
        batch_tfms=None,
        get_items: Callable | None = None,
        splitter: Callable | None = None,
        get_y=None,
        get_x=None,
    ):
        blocks = [
            b() if callable(b) and not isinstance(b, TransformBlock) else b
            for b in _as_list(blocks or [TransformBlock(), TransformBlock()])
        ]
        for i, b in enumerate(blocks):
            if not isinstance(b, TransformBlock):
                raise DataError(
                    f"DataBlock: block {i} is {b!r}, expected a TransformBlock (or a function making one)"
                )
        self.blocks = blocks
        self.n_inp = n_inp if n_inp is not None else max(1, len(blocks) - 1)
        if not 0 < self.n_inp <= len(blocks):
            raise DataError(f"DataBlock: n_inp={self.n_inp} must be between 1 and the {len(blocks)} blocks")
        self.type_tfms = [b.type_tfms for b in blocks]
        self.item_tfms = _merge_tfms(*(b.item_tfms for b in blocks), item_tfms)
        self.batch_tfms = _merge_tfms(*(b.batch_tfms for b in blocks), batch_tfms)
        self.dl_type = dl_type or next((b.dl_type for b in reversed(blocks) if b.dl_type), None)
        self.dls_kwargs = {k: v for b in blocks for k, v in b.dls_kwargs.items()}
        self.get_items, self.splitter = get_items, splitter or RandomSplitter()
        self.getters = self._getters(getters, get_x, get_y)

    def _getters(self, getters, get_x, get_y) -> list:
        n = len(self.blocks)
        if getters is not None:
            getters = _as_list(getters)
            if len(getters) != n:
                raise DataError(f"DataBlock: {len(getters)} getters for {n} blocks; give one per block")
            return getters
        xs = _as_list(get_x) or [None]
        ys = _as_list(get_y) or [None]
        xs = xs * self.n_inp if len(xs) == 1 else xs
        ys = ys * (n - self.n_inp) if len(ys) == 1 else ys
        if len(xs) != self.n_inp or len(ys) != n - self.n_inp:
            raise DataError(
                f"DataBlock: {len(xs)} get_x and {len(ys)} get_y for {self.n_inp} inputs and "
                f"{n - self.n_inp} targets"
            )
        return xs + ys

    def _pipelines(self) -> list[list]:
        return [[g, *t] if g is not None else list(t) for g, t in zip(self.getters, self.type_tfms)]

    def _items(self, source):
        items = self.get_items(source) if self.get_items is not None else source
        if items is None or len(items) == 0:
            where = (
                f"{getattr(self.get_items, '__name__', self.get_items)}({source!r})"
                if self.get_items
                else "source"
            )
            raise DataError(f"DataBlock: {where} returned no items; check the path, extensions or DataFrame")
        return items

    def datasets(self, source, verbose: bool = False) -> Datasets:
        """Build `Datasets` from `source`: get the items, split them, set up every pipeline.

        Labels of the validation set are checked against the vocabularies learned on the training
        set here, so an unseen label fails now, naming the item, not in the middle of training.
        """
        items = self._items(source)
        splits = self.splitter(items)
        check_splits(splits, len(items), name=getattr(self.splitter, "__name__", repr(self.splitter)))
        dsets = Datasets(items, tfms=self._pipelines(), splits=splits, dl_type=self.dl_type, n_inp=self.n_inp)
        self._check_valid_labels(dsets, items, splits)
        return dsets

    def _check_valid_labels(self, dsets: Datasets, items, splits) -> None:
        for tl in dsets.tls[self.n_inp :]:
            if not any(isinstance(t, Categorize) for t in tl.tfms.fs):
                continue
            valid = tl.valid
            for j in range(len(valid)):
                try:
                    valid[j]
                except DataError as e:
                    k = splits[1][j]
                    raw = items.iloc[k] if hasattr(items, "iloc") else items[k]
                    shown = f"row {k} ({dict(raw)})" if hasattr(raw, "to_dict") else f"{k} ({raw!r})"
                    raise DataError(f"validation item {shown}: {e}") from e

    def dataloaders(self, source, path=".", verbose: bool = False, **kwargs):
        """Build `DataLoaders` from `source`; keyword arguments go to the loaders (bs, num_workers, ...)."""
        dsets = self.datasets(source, verbose=verbose)
        kwargs = {**self.dls_kwargs, **kwargs}
        dls = dsets.dataloaders(path=path, after_item=self.item_tfms, after_batch=self.batch_tfms, **kwargs)
        try:  # one batch now, so a getter returning the wrong type fails here, not in the middle of fit
            dls.train.one_batch()
        except Exception as e:
            raise DataError(
                f"DataBlock.dataloaders: the first training batch cannot be built ({type(e).__name__}: "
                f"{e}); dblock.summary(source) shows each step on one item"
            ) from e
        return dls

    def summary(self, source, bs: int = 4, print_fn=print, **kwargs):
        """Walk one item through every step, printing the value and type after each.

        Steps: get the items, split them, each transform of each pipeline on the first training
        item, each item transform, collation into a batch, each batch transform. A failing step
        raises a `DataError` naming the step, the transform and the item, with what it got.
        """
        say = print_fn
        items = self._items(source)
        say(f"Collecting items: {len(items)} items of type {type(items).__name__}")
        splits = self.splitter(items)
        check_splits(splits, len(items), name=getattr(self.splitter, "__name__", repr(self.splitter)))
        say(f"Splitting: {len(splits)} subsets of sizes {[len(s) for s in splits]}")
        first = splits[0][0]
        raw = items.iloc[first] if hasattr(items, "iloc") else items[first]
        try:
            dsets = self.datasets(source)
        except Exception as e:
            say(f"Building the Datasets failed: {type(e).__name__}: {e}")
            self._walk_raw(items)
            raise
        say(f"\nBuilding one sample from item {first}: {_short(raw)}")
        sample = []
        for k, tl in enumerate(dsets.tls):
            x = raw
            say(f"  pipeline {k}: {tl.tfms!r}")
            for f in tl.tfms.fs:
                x = _step(f, x, f"pipeline {k}", first, lambda f=f, x=x: f(x, split_idx=0))
                say(f"    {f.name}: {_short(x)} ({type(x).__name__})")
            sample.append(x)
        dls = dsets.dataloaders(
            bs=bs, after_item=self.item_tfms, after_batch=self.batch_tfms, **{**self.dls_kwargs, **kwargs}
        )
        dl = dls.train
        x = tuple(sample)
        say(f"\nItem transforms: {dl.after_item!r}")
        for f in dl.after_item.fs:
            x = _step(f, x, "item transforms", first, lambda f=f, x=x: f(x, split_idx=0))
            say(f"    {f.name}: {_short(x)}")
        n = min(bs, len(dsets.train))
        batch_items = [dl.after_item(dsets.train[i]) for i in range(n)]
        say(f"\nCollating {n} items into a batch")
        b = _step(
            dl,
            batch_items,
            "collate",
            first,
            lambda: dl.retain(dl.create_batch(dl.before_batch(batch_items)), batch_items),
        )
        say(f"    {_short(b)}")
        say(f"\nBatch transforms: {dl.after_batch!r}")
        for f in dl.after_batch.fs:
            b = _step(f, b, "batch transforms", first, lambda f=f, b=b: f(b, split_idx=0))
            say(f"    {f.name}: {_short(b)}")
        return dls

    def _walk_raw(self, items) -> None:
        """Run each pipeline's getters (the steps before any setup) on every item to find the failing one."""
        for k, tfms in enumerate(self._pipelines()):
            steps = []
            for f in tfms:
                if isinstance(f, Transform) and len(type(f).setups):
                    break  # needs the training set: not a per-item suspect
                steps.append(f)
            for index in range(len(items)):
                raw = items.iloc[index] if hasattr(items, "iloc") else items[index]
                x = raw
                for f in steps:
                    name = getattr(f, "name", getattr(f, "__name__", repr(f)))
                    try:
                        x = f(x)
                    except Exception as e:
                        raise DataError(
                            f"summary: pipeline {k}, step {name} failed on item {index} "
                            f"({_short(raw)}): it got {type(x).__name__} {_short(x)}: "
                            f"{type(e).__name__}: {e}"
                        ) from e

    def __repr__(self) -> str:
        return (
            f"DataBlock(blocks={self.blocks}, n_inp={self.n_inp}, item_tfms={self.item_tfms}, "
            f"batch_tfms={self.batch_tfms})"
        )


def _short(x, n: int = 90) -> str:
    if hasattr(x, "shape") and getattr(x, "ndim", 0) > 0:
        text = f"{type(x).__name__} of shape {tuple(x.shape)}, dtype {x.dtype}"
    elif isinstance(x, tuple):
        text = "(" + ", ".join(_short(o, 40) for o in x) + ")"
    else:
        text = repr(x)
    return text if len(text) <= n else text[: n - 3] + "..."


def _step(tfm, x, where: str, index, run):
    try:
        return run()
    except Exception as e:
        name = getattr(tfm, "name", type(tfm).__name__)
        raise DataError(
            f"summary: {where}, step {name} failed on item {index}: it got "
            f"{type(x).__name__} {_short(x)}: {e}"
        ) from e
