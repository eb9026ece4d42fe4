"""Everything user-facing in layered-text (and the layers below), for `from layered.text.all import *`."""

# isort: off
# the layers below first, so that names this package refines (e.g. `Normalize`) are the ones left bound
from layered.train.all import *

# isort: on
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
from layered.text.tokenizers import *
