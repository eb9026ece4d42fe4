"""Everything user-facing in layered-data (and layered-core), for `from layered.data.all import *`."""

from layered.core.all import *
from layered.data.archive import *
from layered.data.blocks import *
from layered.data.categorize import *
from layered.data.checksums import *
from layered.data.collation import *
from layered.data.config import *
from layered.data.data_block import *
from layered.data.dataloaders import *
from layered.data.datasets import *
from layered.data.download import *
from layered.data.errors import *
from layered.data.external import *
from layered.data.getters import *
from layered.data.in_memory import *
from layered.data.loader import *
from layered.data.normalize import *
from layered.data.sampling import *
from layered.data.show import *
from layered.data.splitters import *
from layered.data.tfmd_lists import *
from layered.data.tfmd_loader import *
