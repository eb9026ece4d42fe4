"""Everything user-facing in layered-vision (and the layers below), for `from layered.vision.all import *`."""

# the notebook names the paper's listings use without importing them
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from layered.train.all import *
from layered.vision.affine import *
from layered.vision.annotations import *
from layered.vision.augment import *
from layered.vision.blocks import *
from layered.vision.dataloaders import *
from layered.vision.digits import *
from layered.vision.drawing import *
from layered.vision.efficientnet_lite import *
from layered.vision.errors import *
from layered.vision.fixed_symmetries import *
from layered.vision.gan.data import *
from layered.vision.gan.diff_augment import *
from layered.vision.gan.learner import *
from layered.vision.gan.losses import *
from layered.vision.gan.models import *
from layered.vision.gan.switchers import *
from layered.vision.gan.trainer import *
from layered.vision.image_io import *
from layered.vision.interpret import *
from layered.vision.item_transforms import *
from layered.vision.learner import *
from layered.vision.lighting import *
from layered.vision.normalize import *
from layered.vision.serving import *
from layered.vision.show import *
from layered.vision.timm_body import *
from layered.vision.torchvision_components import *
from layered.vision.torchvision_models import *
from layered.vision.types import *
from layered.vision.unet import *
from layered.vision.xresnet import *
