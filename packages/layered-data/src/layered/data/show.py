"""`show_batch` and `show_results`: chosen by the types of a batch's inputs `x` and targets `y`.

Each application registers how its types show, in its own module, e.g.

```python
@typedispatch
def show_batch(x: TensorImage, y, samples, ctxs=None, max_n=9, **kwargs): ...  # an image grid
```

`x` and `y` are the batch's inputs and targets with the batch transforms undone (so they carry
their semantic types); `samples` is the list of fully decoded items, tuples `(x_i, y_i, ...)`.
The generic versions here, used when nothing more specific is registered, print the decoded
samples as a table (a pandas DataFrame) and return it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from layered.core.dispatch import typedispatch

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["samples_frame", "show_batch", "show_results"]

_MAX_CELL_NUMEL = 8  # larger tensors are shown by type and shape, not value by value


def _cell(o: Any) -> str:
    """An element as table text: its `show` (when that gives text), else its value."""
    show = getattr(o, "show", None)
    if callable(show):
        shown = show(ctx=None)
        if isinstance(shown, str):
            return shown
    numel = getattr(o, "numel", None)
    if callable(numel) and numel() > _MAX_CELL_NUMEL:
        return f"{type(o).__name__}{tuple(o.shape)}"
    return str(o.tolist() if hasattr(o, "tolist") else o)


def _as_tuple(o: Any) -> tuple:
    return o if isinstance(o, tuple) else (o,)


def samples_frame(samples: list, outs: list | None = None) -> pd.DataFrame:
    """A DataFrame with one row per decoded sample: columns `item_j`, and `pred_j` when `outs` is given."""
    import pandas as pd

    rows = []
    for i, sample in enumerate(samples):
        row = {f"item_{j}": _cell(v) for j, v in enumerate(_as_tuple(sample))}
        if outs is not None:
            row.update({f"pred_{j}": _cell(v) for j, v in enumerate(_as_tuple(outs[i]))})
        rows.append(row)
    return pd.DataFrame(rows)


@typedispatch
def show_batch(x, y, samples, ctxs=None, max_n: int = 9, **kwargs):
    """Generic: print the first `max_n` decoded samples as a table and return the DataFrame."""
    frame = samples_frame(samples[:max_n])
    print(frame.to_string())
    return frame


@typedispatch
def show_results(x, y, samples, outs, ctxs=None, max_n: int = 9, **kwargs):
    """Generic: print the first `max_n` decoded samples beside their decoded predictions; return the table."""
    frame = samples_frame(samples[:max_n], outs[:max_n])
    print(frame.to_string())
    return frame
