"""layered: the whole library (meta-package). `from layered.all import *` brings every user-facing name.

Two applications refine `layered.data`'s `Normalize` differently: here `Normalize` is the vision
one (images, `Normalize.from_stats(*imagenet_stats)`), and the tabular proc is `TabularNormalize`
(`procs=[Categorify, FillMissing, TabularNormalize]`); `from layered.tabular.all import *` alone
binds the tabular one as `Normalize`.
"""

# isort: off
from layered.tabular.all import *
from layered.tabular.procs import Normalize as TabularNormalize
from layered.collab.all import *
from layered.text.all import *
from layered.vision.all import *

# isort: on

__version__ = "0.1.0"
