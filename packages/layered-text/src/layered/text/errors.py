"""Errors raised by layered-text."""

from layered.core.errors import LayeredError

__all__ = ["TextError"]


class TextError(LayeredError, ValueError):
    """Bad text data or settings: names the row, column, file or argument and what was expected."""
