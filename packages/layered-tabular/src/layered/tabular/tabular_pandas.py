"""TabularPandas: a DataFrame with named categorical, continuous and target columns, processed by procs.

```python
to = TabularPandas(df, procs=[Categorify, FillMissing, Normalize], cat_names=["island"],
                   cont_names=["bill_length_mm"], y_names="species", splits=(train_idx, valid_idx))
to.train, to.valid          # the processed rows of each split (views sharing the procs)
to.new(other_df)            # new rows processed with the procs fitted on the training rows
to.decode()                 # the processed rows read back as the original values
```
Each proc is set up on the training rows only (the first split), then applied to every row,
before the next proc is set up. After processing, categorical columns hold integer codes and
continuous ones numbers, so a split becomes three tensors at once (`tensors`): the categorical
codes (int64), the continuous values (float32) and the targets; loaders slice those directly.

`TabularDataLoaders` lives here too: the table builds its loaders (`to.dataloaders()`) and the
loaders build their table (`TabularDataLoaders.from_df`), so the two are one module, not a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from layered.core.delegation import delegates
from layered.core.pipeline import Pipeline
from layered.core.registry import register_serializable
from layered.core.transform import Transform
from layered.data.categorize import TensorCategory, TensorRegression
from layered.data.dataloaders import DataLoaders
from layered.data.in_memory import item_of
from layered.data.normalize import Normalize
from layered.data.sampling import sampled_train_type
from layered.data.splitters import IndexSplitter, RandomSplitter
from layered.tabular._finite import refuse_infinite
from layered.tabular.dtypes import df_shrink_dtypes
from layered.tabular.errors import TabularError
from layered.tabular.procs import TabularNormalize
from layered.tabular.sampling import PartialTabDataLoader, WeightedTabDataLoader
from layered.tabular.tab_loader import TabDataLoader
from layered.tabular.table import ProcessedTable
from layered.tabular.targets import CategorizeTarget, target_proc

__all__ = ["TabularDataLoaders", "TabularPandas"]


def _names(x: Any, arg: str) -> list:
    if x is None:
        return []
    names = [x] if isinstance(x, (str, int)) else list(x)
    dupes = sorted({str(n) for n in names if names.count(n) > 1})
    if dupes:
        raise TabularError(f"{arg} lists columns {dupes} more than once")
    return names


def _proc(p: Any, i: int) -> Transform:
    if p is Normalize:  # fastai's spelling of the tabular proc: the batch transform cannot rewrite columns
        p = TabularNormalize
    p = p() if isinstance(p, type) else p
    if type(p) is Normalize:
        raise TabularError(
            f"procs[{i}] is a Normalize instance, which normalizes batches, not table columns; pass the "
            "class Normalize or TabularNormalize() as a proc"
        )
    if not isinstance(p, Transform):
        raise TabularError(
            f"procs[{i}] is {p!r}; expected a proc such as Categorify, FillMissing or TabularNormalize (a class or instance)"
        )
    return p


def _numeric_or_raise(s: pd.Series, col: Any) -> pd.Series:
    """`s` as numbers: kept if numeric, converted if it holds only numbers as objects, else an error naming `col`."""
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty"):
        return pd.to_numeric(s)
    bad = pd.unique(s[pd.to_numeric(s, errors="coerce").isna() & s.notna()].to_numpy())[:5].tolist()
    raise TabularError(
        f"continuous column {col!r} holds non-numbers (dtype {s.dtype}, e.g. {bad}); convert it to "
        "numbers, or list it in cat_names"
    )


def _tensor(a: np.ndarray) -> torch.Tensor:
    # pandas may hand out read-only views of its data; a tensor must own writable memory
    return torch.from_numpy(a if a.flags.writeable else a.copy())


def _frame_state(df: pd.DataFrame) -> dict:
    """A DataFrame as plain data (names, arrays, dtype names), which exports describe without pickle."""
    return {
        "columns": list(df.columns),
        "arrays": [df[c].to_numpy(copy=True) for c in df.columns],
        "dtypes": [str(df[c].dtype) for c in df.columns],
        "index": df.index.to_numpy(copy=True),
    }


def _frame_from_state(state: dict) -> pd.DataFrame:
    cols = {c: pd.Series(a, dtype=d) for c, a, d in zip(state["columns"], state["arrays"], state["dtypes"])}
    df = pd.DataFrame(cols, columns=state["columns"])
    df.index = pd.Index(state["index"])
    return df


@register_serializable
class TabularPandas(ProcessedTable):
    """Categorical, continuous and target columns of `df`, processed by `procs` fitted on the training rows.

    `procs`: classes or instances (`Categorify`, `FillMissing`, `TabularNormalize`, ...), run in
    their `order`; the class `Normalize` (fastai's spelling) stands for `TabularNormalize`. `y_block` is `CategoryBlock()` or `RegressionBlock()`; without one, float targets
    are a regression and any other single target holds class labels. `splits` are lists of
    row positions, training first (default: every row is training). The frame is copied unless
    `inplace`; `reduce_memory` first shrinks the continuous columns (float64 to float32, integers
    to the smallest width); categorical columns become small integer codes in any case.
    """

    n_inp = 2  # a batch is (categorical codes, continuous values, targets)

    def __init__(
        self,
        df: pd.DataFrame,
        procs: Iterable | None = None,
        cat_names: Sequence | str | None = None,
        cont_names: Sequence | str | None = None,
        y_names: Sequence | str | None = None,
        y_block: Any = None,
        splits: Sequence[Sequence[int]] | None = None,
        do_setup: bool = True,
        inplace: bool = False,
        reduce_memory: bool = True,
    ):
        if not isinstance(df, pd.DataFrame):
            raise TabularError(f"TabularPandas needs a pandas DataFrame, got {type(df).__name__}")
        self.cat_names = _names(cat_names, "cat_names")
        self.cont_names = _names(cont_names, "cont_names")
        self.y_names = _names(y_names, "y_names")
        self._check_overlap()
        self.input_names = [*self.cat_names, *self.cont_names]
        self._check_columns(df, with_targets=True)
        df = self._numeric_conts(df if inplace else df.copy())
        if reduce_memory:
            # categorical columns are about to become small codes: only the continuous ones shrink here
            for col, dtype in df_shrink_dtypes(df[self.cont_names], obj2cat=False).items():
                df[col] = df[col].astype(dtype)
        self.items = df
        self.splits = self._splits(splits, len(df))
        self.split_idx: int | None = None
        self.y_proc = target_proc(y_block, df, self.y_names) if self.y_names else None
        fs = [_proc(p, i) for i, p in enumerate(procs or [])]
        self.procs = Pipeline(fs + ([self.y_proc] if self.y_proc is not None else []))
        self._tensors: tuple[torch.Tensor, ...] | None = None
        if do_setup:
            self.setup()

    # ---- checks -----------------------------------------------------------------------
    def _check_overlap(self) -> None:
        groups = {"cat_names": self.cat_names, "cont_names": self.cont_names, "y_names": self.y_names}
        seen: dict = {}
        for arg, names in groups.items():
            for n in names:
                if n in seen:
                    raise TabularError(f"column {n!r} is in both {seen[n]} and {arg}")
                seen[n] = arg

    def _check_columns(self, df: pd.DataFrame, with_targets: bool) -> None:
        wanted = self.input_names + (self.y_names if with_targets else [])
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            have = ", ".join(str(c) for c in list(df.columns)[:20]) + (
                ", ..." if len(df.columns) > 20 else ""
            )
            raise TabularError(f"the DataFrame has no column(s) {missing}; its columns are: {have}")

    def _numeric_conts(self, df: pd.DataFrame) -> pd.DataFrame:
        for col in self.cont_names:
            if col in df.columns:
                s = df[col]
                converted = _numeric_or_raise(s, col)
                refuse_infinite(converted, f"continuous column {col!r}")
                if converted is not s:
                    df[col] = converted
        return df

    @staticmethod
    def _splits(splits: Sequence[Sequence[int]] | None, n: int) -> list[np.ndarray]:
        if splits is None:
            return [np.arange(n)]
        out = [np.asarray(s, dtype=np.int64).reshape(-1) for s in splits]
        sizes = f"sizes {[len(s) for s in out]} of {n} rows"
        for k, s in enumerate(out):
            if not len(s):
                raise TabularError(f"TabularPandas splits: split {k} is empty ({sizes})")
            if s.min() < 0 or s.max() >= n:
                bad = s[(s < 0) | (s >= n)][:5].tolist()
                raise TabularError(
                    f"TabularPandas splits: split {k} has row positions {bad} outside 0..{n - 1}"
                )
        # vectorised (the generic check_splits builds Python sets: seconds for a million rows)
        counts = np.bincount(np.concatenate(out), minlength=n)
        if (counts > 1).any():
            row = int(np.argmax(counts > 1))
            where = [k for k, s in enumerate(out) if (s == row).any()]
            what = f"split {where[0]} repeats" if len(where) == 1 else f"splits {where} overlap on"
            raise TabularError(f"TabularPandas splits: {what} row {row} ({sizes})")
        return out

    # ---- processing -------------------------------------------------------------------
    def train_rows(self, cols: Sequence | None = None) -> pd.DataFrame:
        """The training rows (the first split) of columns `cols` (default all): what procs learn from."""
        frame = self.items if cols is None else self.items[list(cols)]
        idx = self.splits[0]
        return frame if len(idx) == len(frame) else frame.iloc[idx]

    def setup(self) -> None:
        """Set up each proc on the training rows, then apply it to every row, in order."""
        for proc in self.procs.fs:
            proc.setup(self)
            proc(self)
        self._tensors = None

    def process(self) -> None:
        """Apply the (already set up) procs to every row."""
        for proc in self.procs.fs:
            proc(self)
        self._tensors = None

    def _derived(self, items: pd.DataFrame, split_idx: int | None = None) -> TabularPandas:
        """A TabularPandas over `items` sharing these names and procs, without processing anything."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.items, new.split_idx, new._tensors = items, split_idx, None
        new.splits = [np.arange(len(items))]
        return new

    def new(self, df: pd.DataFrame, inplace: bool = False) -> TabularPandas:
        """New rows processed by these procs (as set up on the training rows); targets are optional."""
        if not isinstance(df, pd.DataFrame):
            raise TabularError(f"TabularPandas.new needs a pandas DataFrame, got {type(df).__name__}")
        self._check_columns(df, with_targets=False)
        new = self._derived(self._numeric_conts(df if inplace else df.copy()), split_idx=1)
        new.process()
        return new

    def new_empty(self) -> TabularPandas:
        """The same names and procs over no rows: what inference needs to process new data."""
        return self._derived(self.items.iloc[:0].copy(), split_idx=1)

    def decode(self) -> pd.DataFrame:
        """The input and target columns with every proc undone: the original values (missing ones restored)."""
        present = [c for c in self.all_col_names if c in self.items.columns]
        return self.procs.decode(self._derived(self.items[present].copy())).items

    def decode_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Undo the procs on processed rows `df` (e.g. a batch turned into a frame)."""
        return self.procs.decode(self._derived(df)).items

    def show(self, max_n: int = 10, show: bool = True) -> pd.DataFrame:
        """The first `max_n` rows decoded, printed (unless `show=False`) and returned."""
        frame = self._derived(self.items.iloc[:max_n]).decode()
        if show:
            print(frame.to_string())
        return frame

    # ---- columns and targets ----------------------------------------------------------
    @property
    def x_names(self) -> list:
        """The input columns: categorical then continuous."""
        return [*self.cat_names, *self.cont_names]

    @property
    def all_col_names(self) -> list:
        """Input and target columns."""
        return [*self.x_names, *self.y_names]

    @property
    def cats(self) -> pd.DataFrame:
        """The categorical columns."""
        return self.items[self.cat_names]

    @property
    def conts(self) -> pd.DataFrame:
        """The continuous columns."""
        return self.items[self.cont_names]

    @property
    def ys(self) -> pd.DataFrame:
        """The target columns."""
        return self.items[self.y_names]

    @property
    def is_classification(self) -> bool:
        """Whether the target holds class labels (else it is numeric, or there is none)."""
        return isinstance(self.y_proc, CategorizeTarget)

    @property
    def target_type(self) -> type | None:
        """The semantic type of the targets (`TensorCategory` or `TensorRegression`; None without targets).

        Batches hold plain tensors, sliced at once; this is what the default loss is chosen from.
        """
        if self.c is None:
            return None
        return TensorCategory if self.is_classification else TensorRegression

    @property
    def classes(self) -> dict:
        """The vocabulary of each categorical column and of a class-label target: `{column: [levels]}`."""
        out = {}
        for p in self.procs.fs:
            out.update(getattr(p, "classes", {}))
        if self.is_classification:
            out[self.y_names[0]] = self.y_proc.vocab
        return out

    @property
    def c(self) -> int | None:
        """The number of classes, or of regression targets; None without targets."""
        return getattr(self.y_proc, "c", None)

    # ---- subsets ----------------------------------------------------------------------
    def subset(self, i: int) -> TabularPandas:
        """The processed rows of split `i` (0: training, 1: validation)."""
        if not -len(self.splits) <= i < len(self.splits):
            raise TabularError(
                f"split {i} does not exist: this TabularPandas has {len(self.splits)} split(s)"
            )
        return self._derived(self.items.iloc[self.splits[i]], split_idx=i % len(self.splits))

    @property
    def n_subsets(self) -> int:
        """How many splits there are."""
        return len(self.splits)

    @property
    def subsets(self) -> list[TabularPandas]:
        """Every split, in order."""
        return [self.subset(i) for i in range(self.n_subsets)]

    @property
    def train(self) -> TabularPandas:
        """The training rows."""
        return self.subset(0)

    @property
    def valid(self) -> TabularPandas:
        """The validation rows."""
        if len(self.splits) < 2:
            raise TabularError(
                "this TabularPandas has no validation split: pass splits=(train_idx, valid_idx)"
            )
        return self.subset(1)

    # ---- tensors ----------------------------------------------------------------------
    @property
    def has_targets(self) -> bool:
        """Whether the rows carry every target column."""
        return bool(self.y_names) and all(c in self.items.columns for c in self.y_names)

    @property
    def tensors(self) -> tuple[torch.Tensor, ...]:
        """`(cats int64 (n, n_cat), conts float32 (n, n_cont)[, ys])`, made once and kept.

        Class-label targets are int64 `(n,)`, numeric ones float32 `(n, n_targets)`.
        """
        if self._tensors is None:
            self._tensors = self._make_tensors()
        return self._tensors

    def _make_tensors(self) -> tuple[torch.Tensor, ...]:
        for col in self.cat_names:
            dtype = self.items[col].dtype
            if not (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise TabularError(
                    f"categorical column {col!r} holds {dtype} values, not codes: add Categorify to the procs"
                )
        for col in self.cont_names:
            n = int(self.items[col].isna().sum())
            if n:
                raise TabularError(
                    f"continuous column {col!r} has {n} missing values after the procs: add FillMissing"
                )
        n = len(self.items)
        cats = self.items[self.cat_names].to_numpy(dtype=np.int64).reshape(n, len(self.cat_names))
        conts = self.items[self.cont_names].to_numpy(dtype=np.float32).reshape(n, len(self.cont_names))
        if not self.has_targets:
            return _tensor(cats), _tensor(conts)
        if self.is_classification:
            ys = self.items[self.y_names[0]].to_numpy(dtype=np.int64)
        else:
            ys = self.items[self.y_names].to_numpy(dtype=np.float32).reshape(n, len(self.y_names))
        return _tensor(cats), _tensor(conts), _tensor(ys)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        return item_of(self.tensors, i)

    # ---- copying and export -----------------------------------------------------------
    def __getstate__(self) -> dict:
        # a DataFrame is not plain data: keep its columns as arrays; the tensors are rebuilt on use
        return {**self.__dict__, "items": _frame_state(self.items), "_tensors": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update({**state, "items": _frame_from_state(state["items"])})

    def dataloaders(self, bs: int = 64, shuffle_train: bool = True, **kwargs: Any):
        """`TabularDataLoaders` over every split (training shuffled); keywords go to `TabularDataLoaders.from_to`."""
        return TabularDataLoaders.from_to(self, bs=bs, shuffle_train=shuffle_train, **kwargs)

    def __repr__(self) -> str:
        sizes = [len(s) for s in self.splits]
        return (
            f"TabularPandas: {len(self)} rows (splits {sizes}), cat_names={self.cat_names}, "
            f"cont_names={self.cont_names}, y_names={self.y_names}; procs: {[type(p).__name__ for p in self.procs.fs]}"
        )


@register_serializable
class TabularDataLoaders(DataLoaders):
    """The training and validation `TabDataLoader`s of a `TabularPandas`.

    The Learner's default loss follows the table's `target_type` (see `layered.train.losses.default`).
    """

    loader_type: type = TabDataLoader  # the loader class `from_to` makes, one per split
    weighted_loader_type: type = WeightedTabDataLoader  # the training loader's class with `wgts`
    partial_loader_type: type = PartialTabDataLoader  # the training loader's class with `partial_n`

    @property
    def _table(self) -> TabularPandas:
        """The training loader's processed table, which the properties below describe."""
        return self.train.dataset

    @property
    def vocab(self) -> Any:
        """The target's class labels (a classification table); None for regression or without targets."""
        return self._table.y_proc.vocab if self._table.is_classification else None

    @property
    def c(self) -> int | None:
        """The number of classes, or of regression targets; None without targets."""
        return self._table.c

    @property
    def classes(self) -> dict:
        """The levels of each categorical column and of a class-label target: `{column: [levels]}`."""
        return self._table.classes

    @property
    def cat_names(self) -> list:
        """The categorical input columns."""
        return list(self._table.cat_names)

    @property
    def cont_names(self) -> list:
        """The continuous input columns."""
        return list(self._table.cont_names)

    @property
    def y_names(self) -> list:
        """The target columns."""
        return list(self._table.y_names)

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
        wgts: Any = None,
        partial_n: int | None = None,
        **kwargs: Any,
    ) -> TabularDataLoaders:
        """One loader per split of `to`: the first shuffled (dropping a last partial batch), the others in order.

        `wgts` (one per training row) makes the training loader draw rows by weight; `partial_n`
        makes it visit that many random rows per epoch (`layered.data.sampling`).
        """
        loaders = []
        for i, sub in enumerate(to.subsets):
            train = i == 0 and shuffle_train
            size = bs if i == 0 else (val_bs or bs)
            kind, extra = cls.loader_type, {}
            if i == 0:
                kind, extra = sampled_train_type(
                    kind,
                    wgts,
                    partial_n,
                    train,
                    cls.weighted_loader_type,
                    cls.partial_loader_type,
                    f"{cls.__name__}.from_to",
                )
            loaders.append(
                kind(sub, bs=size, shuffle=train, drop_last=train, device=device, **kwargs, **extra)
            )
        return cls(*loaders, path=path, device=device, loss_func=loss_func)

    @classmethod
    @delegates(from_to, keep=True)
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
            splits=splitter.positions(df),
            reduce_memory=reduce_memory,
            inplace=inplace,
        )
        return cls.from_to(to, bs=bs, path=path, **kwargs)

    @classmethod
    @delegates(from_df, keep=True)
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
