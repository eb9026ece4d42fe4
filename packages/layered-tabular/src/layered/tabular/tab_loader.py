"""TabDataLoader: batches sliced straight from a `TabularPandas`' tensors, decoded back into DataFrames.

A batch is `(cats, conts, ys)` — int64 codes, float32 values, targets — made by one indexing
operation per tensor (the in-memory fast path of `layered.data.loader.DataLoader`); no row is
ever collated on its own. Decoding turns a batch (or predictions) back into a DataFrame of the
original values, which is what `show_batch`, `show_results` and `Learner.predict` print.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from layered.core.device import to_cpu
from layered.core.registry import register_serializable
from layered.data.loader import DataLoader
from layered.tabular.errors import TabularError

__all__ = ["TabDataLoader"]

# what the loader uses of its table (TabularPandas has them all)
_TABLE_API = ("tensors", "n_inp", "cat_names", "cont_names", "y_names", "is_classification", "decode_frame")


def _plain(t: torch.Tensor) -> torch.Tensor:
    return to_cpu(t.detach()).as_subclass(torch.Tensor)


@register_serializable
class TabDataLoader(DataLoader):
    """A DataLoader over a `TabularPandas` (or any table with its `tensors` and decoding): batches `(cats, conts[, ys])` sliced from its tensors.

    `in_memory=False` builds batches item by item instead (only useful to debug a replaced
    per-item stage). Other arguments are `DataLoader`'s.
    """

    def __init__(self, dataset: Any, bs: int | None = 64, shuffle: bool = False, **kwargs: Any):
        super().__init__(dataset, bs=bs, shuffle=shuffle, **kwargs)
        self.n_inp = dataset.n_inp

    def _set_dataset(self, dataset: Any, indexed: bool | None, n: int | None) -> None:
        missing = [a for a in _TABLE_API if not hasattr(dataset, a)]
        if missing:
            raise TabularError(
                f"{type(self).__name__} needs a TabularPandas, got {type(dataset).__name__} "
                f"(which lacks {missing}, what the loader uses of a processed table)"
            )
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
