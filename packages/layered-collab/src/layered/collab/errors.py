"""Errors raised by layered-collab."""

from layered.tabular.errors import TabularError

__all__ = ["CollabError"]


class CollabError(TabularError):
    """Bad ratings data, ids or model settings: names the column, id or argument and what was expected."""
