"""Everything user-facing in layered-tabular (and the layers below), for `from layered.tabular.all import *`.

`Normalize` here is the tabular one, a subclass of `layered.data`'s that still normalises tensors.
"""

# isort: off
# the layers below first, so that the tabular `Normalize` (a superset) is the one left bound
from layered.train.all import *

# isort: on
from layered.tabular.dataloaders import *
from layered.tabular.dates import *
from layered.tabular.dtypes import *
from layered.tabular.errors import *
from layered.tabular.learner import *
from layered.tabular.model import *
from layered.tabular.procs import *
from layered.tabular.serving import *
from layered.tabular.tabular_pandas import *
from layered.tabular.targets import *
