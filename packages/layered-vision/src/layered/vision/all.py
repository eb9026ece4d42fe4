"""Everything user-facing in layered-vision (and the layers below), for `from layered.vision.all import *`."""

# isort: off
# the layers below first, so that names this package refines (e.g. `Normalize`) are the ones left bound
from layered.train.all import *

# isort: on
from layered.vision.affine import *
from layered.vision.annotations import *
from layered.vision.augment import *
from layered.vision.blocks import *
from layered.vision.dataloaders import *
from layered.vision.digits import *
from layered.vision.errors import *
from layered.vision.image_io import *
from layered.vision.interpret import *
from layered.vision.item_transforms import *
from layered.vision.learner import *
from layered.vision.lighting import *
from layered.vision.normalize import *
from layered.vision.serving import *
from layered.vision.show import *
from layered.vision.torchvision_components import *
from layered.vision.types import *
from layered.vision.unet import *
from layered.vision.xresnet import *
