"""Errors raised by layered-vision."""

from layered.core.errors import LayeredError

__all__ = ["ImageReadError", "VisionError"]


class VisionError(LayeredError, ValueError):
    """Bad vision data or configuration: names the file or item and what was expected."""


class ImageReadError(VisionError):
    """A file could not be read as an image (corrupt, truncated, not an image, unsupported mode)."""
