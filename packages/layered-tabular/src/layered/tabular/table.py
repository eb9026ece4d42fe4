"""`ProcessedTable`: the type procs work on, so they need not import `TabularPandas`, which runs them."""

from __future__ import annotations

__all__ = ["ProcessedTable"]


class ProcessedTable:
    """Base of tables whose columns procs rewrite in place (`TabularPandas`); procs dispatch on it.

    A proc that also handles other values (the tensor batches `TabularNormalize` inherits from
    `layered.data`'s `Normalize`) tells a table from them by this type.
    """
