"""Small frames the tabular tests share: made here, with known structure, in a few milliseconds."""

import numpy as np
import pandas as pd

CATS = ["color", "size"]
CONTS = ["a", "b"]


def mixed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Two categorical and two continuous columns with missing values, a label `y` and a number `t`.

    `y` is "yes" when `a + (color == 'red')` is positive, so both kinds of input matter; `t` is
    a noiseless linear function of the inputs.
    """
    rng = np.random.default_rng(seed)
    color = rng.choice(["red", "green", "blue"], n).astype(object)
    size = rng.choice(["S", "M", "L", "XL"], n).astype(object)
    a = rng.normal(0, 1, n)
    b = rng.normal(10, 3, n)
    y = np.where(a + (color == "red") * 1.5 - 0.5 > 0, "yes", "no")
    t = 2 * a + 0.5 * b + (size == "L")
    color[rng.random(n) < 0.05] = None
    a_missing = a.copy()
    a_missing[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"color": color, "size": size, "a": a_missing, "b": b, "y": y, "t": t})


def splits(n: int, valid_pct: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random (train, valid) split of `n` row positions."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(n * (1 - valid_pct))
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def make(df=None, **kwargs):
    """A `TabularPandas` of `mixed_frame()` (or `df`) with the three procs and the default split."""
    from layered.data.normalize import Normalize
    from layered.tabular.procs import Categorify, FillMissing
    from layered.tabular.tabular_pandas import TabularPandas

    df = mixed_frame() if df is None else df
    procs = [Categorify, FillMissing, Normalize]
    kwargs = {"procs": procs, "cat_names": CATS, "cont_names": CONTS, "y_names": "y", **kwargs}
    kwargs.setdefault("splits", splits(len(df)))
    return TabularPandas(df, **kwargs)
