"""`show_batch` and `show_results` for texts: a table (pandas DataFrame) of the decoded texts.

Registered on `TensorText` with layered's `typedispatch`, so `dls.show_batch()` and
`learn.show_results()` pick them for text inputs. Texts are cut to `trunc_at` words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from layered.core.dispatch import typedispatch
from layered.data.show import samples_frame
from layered.text.numericalize import TensorText

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["show_batch", "show_results", "texts_frame"]


def _short(o: Any, trunc_at: int | None) -> Any:
    return o.truncate(trunc_at) if trunc_at is not None and hasattr(o, "truncate") else o


def _names(y: Any, n: int, stem: str) -> list[str]:
    """Column names of a sample's elements after the text: `text_` for a text target."""
    if n == 0:
        return []
    if n == 1:
        return ["text_" if isinstance(y, TensorText) and stem == "target" else stem]
    return [f"{stem}_{j}" for j in range(n)]


def texts_frame(
    samples: list, y: Any = None, outs: list | None = None, trunc_at: int | None = 150
) -> pd.DataFrame:
    """One row per decoded sample: `text`, then the target(s) and, with `outs`, the prediction(s)."""
    samples = [s if isinstance(s, tuple) else (s,) for s in samples]
    frame = samples_frame([(_short(s[0], trunc_at), *(_short(o, trunc_at) for o in s[1:])) for s in samples])
    columns = ["text", *_names(y, len(samples[0]) - 1 if samples else 0, "target")]
    frame.columns = columns
    if outs is not None:
        preds = samples_frame(
            [tuple(_short(o, trunc_at) for o in (p if isinstance(p, tuple) else (p,))) for p in outs]
        )
        preds.columns = _names(None, preds.shape[1], "prediction")
        frame = frame.join(preds)
    return frame


@typedispatch
def show_batch(x: TensorText, y, samples, ctxs=None, max_n: int = 10, trunc_at: int | None = 150, **kwargs):
    """Print the first `max_n` decoded texts (and targets) as a table; return the DataFrame."""
    frame = texts_frame(samples[:max_n], y, trunc_at=trunc_at)
    print(frame.to_string())
    return frame


@typedispatch
def show_results(
    x: TensorText, y, samples, outs, ctxs=None, max_n: int = 10, trunc_at: int | None = 150, **kwargs
):
    """Print the first `max_n` decoded texts with their targets and predictions; return the DataFrame."""
    frame = texts_frame(samples[:max_n], y, outs[:max_n], trunc_at=trunc_at)
    print(frame.to_string())
    return frame
