"""Everything user-facing in layered-core, for `from layered.core.all import *`."""

from layered.core.atomic import *
from layered.core.attributes import *
from layered.core.collection import *
from layered.core.config import *
from layered.core.creation import *
from layered.core.delegation import *
from layered.core.device import *
from layered.core.dispatch import *
from layered.core.errors import *
from layered.core.item_errors import *
from layered.core.lazy import *
from layered.core.method_kwargs import *
from layered.core.nested import *
from layered.core.patching import *
from layered.core.pipeline import *
from layered.core.registry import *
from layered.core.seed import *
from layered.core.tensor_types import *
from layered.core.transform import *
