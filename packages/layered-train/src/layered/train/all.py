"""Everything user-facing in layered-train (and the layers below), for `from layered.train.all import *`."""

from layered.data.all import *
from layered.train.callback import *
from layered.train.default_loss import *
from layered.train.errors import *
from layered.train.export import *
from layered.train.gather import *
from layered.train.learner import *
from layered.train.loss import *
from layered.train.lr_finder import *
from layered.train.metric import *
from layered.train.metrics_classification import *
from layered.train.metrics_regression import *
from layered.train.metrics_segmentation import *
from layered.train.metrics_text import *
from layered.train.optim_wrapper import *
from layered.train.optimizer import *
from layered.train.optimizers import *
from layered.train.param_scheduler import *
from layered.train.params import *
from layered.train.progress import *
from layered.train.recorder import *
from layered.train.schedule import *
from layered.train.spec import *
from layered.train.steppers import *
from layered.train.train_eval import *
