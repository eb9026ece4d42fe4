"""Tabular loaders: batches sliced straight from a `TabularPandas`' tensors, decoded back into DataFrames.

A batch is `(cats, conts, ys)` — int64 codes, float32 values, targets — made by one indexing
operation per tensor (the in-memory fast path of `layered.data.loader.DataLoader`); no row is
ever collated on its own. Decoding turns a batch (or predictions) back into a DataFrame of the
original values, which is what `show_batch`, `show_results` and `Learner.predict` print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import torch

from layered.core.device import to_cpu
from layered.core.registry import register_serializable
from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.data.splitters import IndexSplitter, RandomSplitter
from layered.tabular.errors import TabularError
from layered.tabular.tabular_pandas import TabularPandas
from layered.train.losses.flattened import CrossEntropyLossFlat, MSELossFlat

__all__ = ["TabDataLoader", "TabularDataLoaders"]


def _plain(t: torch.Tensor) -> torch.Tensor:
    return to_cpu(t.detach()).as_subclass(torch.Tensor)


@register_serializable
class TabDataLoader(DataLoader):
    """A DataLoader over a `TabularPandas`: batches `(cats, conts[, ys])` sliced from its tensors.

    `in_memory=False` builds batches item by item instead (only useful to debug a replaced
    per-item stage). Other arguments are `DataLoader`'s.
    """

    def __init__(self, dataset: TabularPandas, bs: int | None = 64, shuffle: bool = False, **kwargs: Any):
        super().__init__(dataset, bs=bs, shuffle=shuffle, **kwargs)
        self.n_inp = TabularPandas.n_inp

    def _set_dataset(self, dataset: Any, indexed: bool | None, n: int | None) -> None:
        if not isinstance(dataset, TabularPandas):
            raise TabularError(f"{type(self).__name__} needs a TabularPandas, got {type(dataset).__name__}")
        # the columns are already tensors: the loader's in-memory fast path slices them per batch
        self.dataset, self.indexed = dataset, True
        self._arrays = None if self.in_memory is False else dataset.tensors
        self.n = len(dataset) if n is None else n

    def serving_spec(self, n: int) -> Any:
        """What a graph export (ONNX, `torch.export`) needs: raw columns in, the procs' numeric work inside the graph."""
        from layered.tabular.serving import tabular_serving_spec  # only exports need it

        return tabular_serving_spec(self, n)

    # ---- decoding ---------------------------------------------------------------------
    def _frame(self, b: tuple, max_n: int | None = None) -> pd.DataFrame:
        """The processed values of a batch (its first `max_n` rows) as a DataFrame, one column per name."""
        to = self.dataset
        b = tuple(_plain(t[:max_n]) for t in (b if isinstance(b, tuple) else (b,)))
        if len(b) < to.n_inp:
            raise TabularError(f"a tabular batch is (cats, conts[, ys]); got {len(b)} element(s)")
        data = {c: b[0][:, i].numpy() for i, c in enumerate(to.cat_names)}
        data.update({c: b[1][:, i].numpy() for i, c in enumerate(to.cont_names)})
        if len(b) > to.n_inp:
            data.update(self._target_columns(b[to.n_inp]))
        return pd.DataFrame(data, index=pd.RangeIndex(len(b[0])))

    def _target_columns(self, ys: torch.Tensor) -> dict:
        names = self.dataset.y_names
        if self.dataset.is_classification:
            return {names[0]: ys.reshape(-1).numpy()}
        ys = ys.reshape(len(ys), -1)
        if ys.shape[1] != len(names):
            raise TabularError(f"{ys.shape[1]} target values per row for the target columns {names}")
        return {c: ys[:, i].numpy() for i, c in enumerate(names)}

    def decode(self, b: tuple, max_n: int | None = None) -> pd.DataFrame:
        """A batch as a DataFrame of original values: categories, unnormalised numbers, labels."""
        return self.dataset.decode_frame(self._frame(b, max_n))

    def decode_batch(self, b: tuple, max_n: int = 9) -> list[tuple]:
        """The first `max_n` rows of a batch, each `(categorical values, continuous values, row)`.

        The first two are Series of the decoded inputs; `row` is the whole decoded row (targets
        included when the batch has them) as a one-row DataFrame — what `Learner.predict` returns.
        """
        to, rows = self.dataset, self.decode(b, max_n)
        return [
            (rows.iloc[i][to.cat_names], rows.iloc[i][to.cont_names], rows.iloc[[i]])
            for i in range(len(rows))
        ]

    def show_batch(
        self, b: tuple | None = None, max_n: int = 10, show: bool = True, **kwargs: Any
    ) -> pd.DataFrame:
        """The first `max_n` rows of `b` (default: `one_batch()`) decoded, printed (unless `show=False`) and returned."""
        frame = self.decode(self.one_batch() if b is None else b, max_n)
        if show:
            print(frame.to_string())
        return frame

    def show_results(
        self, b: tuple, out: Any, max_n: int = 10, show: bool = True, **kwargs: Any
    ) -> pd.DataFrame:
        """Decoded rows of `b` with the decoded predictions `out` beside the targets, as `<target>_pred` columns."""
        out = out[0] if isinstance(out, tuple) else out
        frame = self.decode(b, max_n)
        preds = self.dataset.decode_frame(pd.DataFrame(self._target_columns(_plain(out[:max_n]))))
        for col in self.dataset.y_names:
            frame[f"{col}_pred"] = preds[col].to_numpy()
        if show:
            print(frame.to_string())
        return frame


def _target_loss(to: TabularPandas) -> Any:
    """Cross entropy for class labels, mean squared error for numbers, None without targets."""
    if to.c is None:
        return None
    return CrossEntropyLossFlat() if to.is_classification else MSELossFlat()


@register_serializable
class TabularDataLoaders(DataLoaders):
    """The training and validation `TabDataLoader`s of a `TabularPandas`, with the loss its targets call for."""

    @classmethod
    def from_to(
        cls,
        to: TabularPandas,
        bs: int = 64,
        val_bs: int | None = None,
        shuffle_train: bool = True,
        path: str | Path = ".",
        device: str | torch.device | None = None,
        loss_func: Any = None,
        **kwargs: Any,
    ) -> TabularDataLoaders:
        """One loader per split of `to`: the first shuffled (dropping a last partial batch), the others in order."""
        loaders = []
        for i, sub in enumerate(to.subsets):
            train = i == 0 and shuffle_train
            size = bs if i == 0 else (val_bs or bs)
            loaders.append(
                TabDataLoader(sub, bs=size, shuffle=train, drop_last=train, device=device, **kwargs)
            )
        return cls(*loaders, path=path, device=device, loss_func=loss_func or _target_loss(to))

    @classmethod
    def from_df(
        cls,
        df: pd.DataFrame,
        path: str | Path = ".",
        procs: Any = None,
        cat_names: Any = None,
        cont_names: Any = None,
        y_names: Any = None,
        y_block: Any = None,
        valid_idx: Any = None,
        valid_pct: float = 0.2,
        seed: int | None = None,
        bs: int = 64,
        reduce_memory: bool = True,
        inplace: bool = False,
        **kwargs: Any,
    ) -> TabularDataLoaders:
        """Process `df` into a `TabularPandas` (validation: the rows at `valid_idx`, else a random `valid_pct`) and load it.

        Other keywords go to `from_to` (`val_bs`, `shuffle_train`, `device`, `num_workers`, ...).
        """
        splitter = RandomSplitter(valid_pct, seed) if valid_idx is None else IndexSplitter(valid_idx)
        to = TabularPandas(
            df,
            procs=procs,
            cat_names=cat_names,
            cont_names=cont_names,
            y_names=y_names,
            y_block=y_block,
            splits=splitter(df),
            reduce_memory=reduce_memory,
            inplace=inplace,
        )
        return cls.from_to(to, bs=bs, path=path, **kwargs)

    @classmethod
    def from_csv(cls, csv: str | Path, skipinitialspace: bool = True, **kwargs: Any) -> TabularDataLoaders:
        """Read `csv` with pandas, then `from_df` (with `path` the file's folder unless given)."""
        csv = Path(csv)
        if not csv.is_file():
            raise TabularError(f"from_csv: {csv} is not a file")
        kwargs.setdefault("path", csv.parent)
        return cls.from_df(pd.read_csv(csv, skipinitialspace=skipinitialspace), **kwargs)

    def test_dl(self, test_items: Any, with_labels: bool = False, **kwargs: Any) -> TabDataLoader:
        """A loader over new rows (a DataFrame, or a list of rows as Series or dicts) processed like the training rows.

        The targets are kept only `with_labels` (they must then be present). Keywords go to the
        loader (`bs`, `num_workers`, ...).
        """
        df = test_items if isinstance(test_items, pd.DataFrame) else pd.DataFrame(list(test_items))
        # the validation loader replays inference settings; without one, the only loader
        dl = self.loaders[1] if len(self.loaders) > 1 else self.loaders[0]
        to = dl.dataset
        if with_labels:
            missing = [c for c in to.y_names if c not in df.columns]
            if missing:
                raise TabularError(f"test_dl(with_labels=True): the rows have no target column(s) {missing}")
        else:
            df = df.drop(columns=[c for c in to.y_names if c in df.columns])
        return dl.new(to.new(df), shuffle=False, drop_last=False, **kwargs)
