"""layered: the whole library (meta-package); `from layered.all import *`."""

__version__ = "0.1.0"

__all__ = ["__version__"]
