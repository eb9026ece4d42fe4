"""A small DataFrame and its feature getter, shared by the data block tests."""

import pandas as pd
import torch


def frame():
    """20 rows: a number, a two-class label, space-separated tags and a regression value."""
    return pd.DataFrame(
        {
            "x": [float(i) for i in range(20)],
            "label": ["a", "b"] * 10,
            "tags": ["p q", "q", "p", ""] * 5,
            "value": [i / 2 for i in range(20)],
        }
    )


def row_x(r):
    """The row's number as a one-feature tensor."""
    return torch.tensor([r["x"]])
