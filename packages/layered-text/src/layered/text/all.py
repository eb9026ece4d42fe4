"""Everything user-facing in layered-text (and the layers below), for `from layered.text.all import *`."""

# the notebook names the paper's listings use without importing them
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from layered.text.awd_lstm import *
from layered.text.blocks import *
from layered.text.callbacks import *
from layered.text.dataloaders import *
from layered.text.errors import *
from layered.text.interpret import *
from layered.text.learner import *
from layered.text.lm_loader import *
from layered.text.models import *
from layered.text.numericalize import *
from layered.text.rules import *
from layered.text.serving import *
from layered.text.show import *
from layered.text.sorted_loader import *
from layered.text.tokenize import *
from layered.text.tokenized_files import *
from layered.text.tokenizer_transform import *
from layered.text.tokenizers import *
from layered.train.all import *
