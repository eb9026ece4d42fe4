"""Everything user-facing in layered-tabular (and the layers below), for `from layered.tabular.all import *`.

`Normalize` is `layered.data`'s; as a proc (`procs=[Categorify, FillMissing, Normalize]`) it stands
for `TabularNormalize`, the column proc.
"""

# the notebook names the paper's listings use without importing them
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from layered.tabular.dates import *
from layered.tabular.dtypes import *
from layered.tabular.errors import *
from layered.tabular.learner import *
from layered.tabular.model import *
from layered.tabular.procs import *
from layered.tabular.sampling import *
from layered.tabular.serving import *
from layered.tabular.tab_loader import *
from layered.tabular.table import *
from layered.tabular.tabular_pandas import *
from layered.tabular.targets import *
from layered.train.all import *
