"""layered: the whole library (meta-package). `from layered.all import *` brings every user-facing name."""

from layered.train.all import *

__version__ = "0.1.0"
