"""Everything user-facing in layered-collab (and the layers below), for `from layered.collab.all import *`."""

# isort: off
# the layers below first, so that a collab name is the one left bound
from layered.tabular.all import *

# isort: on
from layered.collab.analysis import *
from layered.collab.dataloaders import *
from layered.collab.errors import *
from layered.collab.learner import *
from layered.collab.models import *
from layered.collab.synthetic import *
