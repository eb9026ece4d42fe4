"""Everything user-facing in layered-collab (and the layers below), for `from layered.collab.all import *`."""

# the notebook names the paper's listings use without importing them
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from layered.collab.analysis import *
from layered.collab.dataloaders import *
from layered.collab.errors import *
from layered.collab.learner import *
from layered.collab.models import *
from layered.collab.synthetic import *
from layered.tabular.all import *
