"""The callbacks layered ships: training mode, recording, progress, trackers, loggers, mixed precision, MixUp, gradients, schedules and the lr finder."""

from layered.core.lazy import lazy_face

_WHERE = {
    "ChannelsLast": "layered.train.callbacks.channels_last",
    "CSVLogger": "layered.train.callbacks.csv_logger",
    "ExperimentCallback": "layered.train.callbacks.experiment",
    "epoch_values": "layered.train.callbacks.experiment",
    "fit_params": "layered.train.callbacks.experiment",
    "GradientAccumulation": "layered.train.callbacks.gradient",
    "GradientClip": "layered.train.callbacks.gradient",
    "LRFinder": "layered.train.callbacks.lr_finder",
    "SuggestedLRs": "layered.train.callbacks.lr_finder",
    "minimum": "layered.train.callbacks.lr_finder",
    "slide": "layered.train.callbacks.lr_finder",
    "steep": "layered.train.callbacks.lr_finder",
    "valley": "layered.train.callbacks.lr_finder",
    "MixedPrecision": "layered.train.callbacks.mixed_precision",
    "to_bf16": "layered.train.callbacks.mixed_precision",
    "to_fp16": "layered.train.callbacks.mixed_precision",
    "to_fp32": "layered.train.callbacks.mixed_precision",
    "CutMix": "layered.train.callbacks.mixup",
    "MixLoss": "layered.train.callbacks.mixup",
    "MixUp": "layered.train.callbacks.mixup",
    "MLflowCallback": "layered.train.callbacks.mlflow_logger",
    "ParamScheduler": "layered.train.callbacks.param_scheduler",
    "ProgressCallback": "layered.train.callbacks.progress",
    "Recorder": "layered.train.callbacks.recorder",
    "ShowGraph": "layered.train.callbacks.show_graph",
    "TensorBoardCallback": "layered.train.callbacks.tensorboard",
    "EarlyStoppingCallback": "layered.train.callbacks.tracker",
    "ReduceLROnPlateau": "layered.train.callbacks.tracker",
    "SaveModelCallback": "layered.train.callbacks.tracker",
    "TerminateOnNaNCallback": "layered.train.callbacks.tracker",
    "TrackerCallback": "layered.train.callbacks.tracker",
    "TrainEvalCallback": "layered.train.callbacks.train_eval",
    "WandbCallback": "layered.train.callbacks.wandb_logger",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
