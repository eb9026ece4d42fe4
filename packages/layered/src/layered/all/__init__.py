"""layered: the whole library (meta-package). `from layered.all import *` brings every user-facing name.

Every name binds one object whichever applications are star-imported, in any order: `Normalize`
is `layered.data`'s (the tabular proc is `TabularNormalize`, the image-only one `ImageNormalize`).
"""

from layered.collab.all import *
from layered.tabular.all import *
from layered.text.all import *
from layered.vision.all import *

__version__ = "0.1.0"
