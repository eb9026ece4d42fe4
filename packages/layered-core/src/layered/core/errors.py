"""The root of every error that layered raises on purpose."""

__all__ = ["LayeredError"]


class LayeredError(Exception):
    """Base class of layered's own errors; each distribution derives its own from it."""
