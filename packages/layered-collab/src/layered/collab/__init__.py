"""layered-collab: collaborative filtering models and learners."""

__version__ = "0.1.0"

__all__ = ["__version__"]
