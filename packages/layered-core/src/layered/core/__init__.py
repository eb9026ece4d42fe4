"""layered-core: L, type dispatch, Transform/Pipeline, semantic tensors and small conveniences."""

__version__ = "0.1.0"

__all__ = ["__version__"]
