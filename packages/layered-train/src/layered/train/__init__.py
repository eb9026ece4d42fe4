"""layered-train: Learner, callbacks, optimizers, schedules, metrics, losses and layers."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

# each module's public names, imported from it on first use
_NAMES = """
callback: Callback CallbackOrderError CancelBackwardException CancelBatchException CancelEpochException CancelFitException CancelStepException CancelTrainException CancelValidException EVENTS event_handlers sort_callbacks
distributed: DistributedDL DistributedTrainer barrier_distrib distrib_ctx num_distrib rank0_first rank_distrib setup_distrib teardown_distrib unwrap_model
errors: TrainError
extras: missing_extra
gather: GatherPredsCallback
interpret: ClassificationInterpretation Interpretation
learner: Learner MODEL_FORMAT load_learner
test_time_augmentation: augmented_loader tta view_loader
training_loop: loop_callbacks show_training_loop
"""
# subpackages (rooms) whose public names this face also gives
_ROOMS = ["callbacks", "losses", "metrics", "nn", "optim", "saving"]

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES, _ROOMS)
__all__ = ["__version__", *_PUBLIC]
