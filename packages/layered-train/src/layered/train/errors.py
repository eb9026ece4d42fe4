"""Errors raised by layered-train."""

from layered.core.errors import LayeredError

__all__ = ["TrainError"]


class TrainError(LayeredError, RuntimeError):
    """A training setup or callback problem: names the callback, model part or argument at fault."""
