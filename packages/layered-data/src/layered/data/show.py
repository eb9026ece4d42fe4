"""`show_batch` and `show_results`: dispatched on the types of a batch's inputs and targets.

Each application registers its own (images as a grid, texts as a table, ...) with
`@typedispatch def show_batch(x: TensorImage, y, samples, ctxs=None, max_n=9, **kwargs)`. The
generic version here returns the decoded items as a pandas DataFrame (and prints it).
"""

from __future__ import annotations

import pandas as pd

from layered.core.dispatch import typedispatch

__all__ = ["samples_frame", "show_batch", "show_results"]


def _text(o) -> str:
    if hasattr(o, "show"):
        shown = o.show(ctx=None)
        if isinstance(shown, str):
            return shown
    if hasattr(o, "shape") and getattr(o, "ndim", 0) > 0 and o.numel() > 8:
        return f"{type(o).__name__}{tuple(o.shape)}"
    return str(o.tolist() if hasattr(o, "tolist") else o)


def samples_frame(samples, outs=None) -> pd.DataFrame:
    """A DataFrame with one row per decoded sample (and its prediction, if `outs` is given)."""
    rows = []
    for i, s in enumerate(samples):
        s = s if isinstance(s, tuple) else (s,)
        row = {f"item_{j}": _text(v) for j, v in enumerate(s)}
        if outs is not None:
            o = outs[i] if isinstance(outs[i], tuple) else (outs[i],)
            row.update({f"pred_{j}": _text(v) for j, v in enumerate(o)})
        rows.append(row)
    return pd.DataFrame(rows)


@typedispatch
def show_batch(x, y, samples, ctxs=None, max_n: int = 9, **kwargs):
    """Generic: print and return the decoded samples as a DataFrame."""
    frame = samples_frame(samples[:max_n])
    print(frame.to_string())
    return frame


@typedispatch
def show_results(x, y, samples, outs, ctxs=None, max_n: int = 9, **kwargs):
    """Generic: print and return decoded samples with their predictions as a DataFrame."""
    frame = samples_frame(samples[:max_n], outs[:max_n])
    print(frame.to_string())
    return frame
