"""Errors raised by layered-data."""

from layered.core.errors import LayeredError

__all__ = ["DataError"]


class DataError(LayeredError, ValueError):
    """Bad data or bad data configuration: names the item, file or column and what was expected."""
