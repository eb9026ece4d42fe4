"""Errors raised by layered-tabular."""

from layered.core.errors import LayeredError

__all__ = ["TabularError"]


class TabularError(LayeredError, ValueError):
    """Bad tabular data or configuration: names the column or argument and what was expected."""
