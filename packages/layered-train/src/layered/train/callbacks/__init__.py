"""The callbacks layered ships: training mode, recording, progress, trackers, loggers, mixed precision, MixUp, gradients, schedules, gradual unfreezing and the lr finder."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
bn_freeze: BnFreeze frozen_bn_layers
bs_finder: BSFinder SuggestedBS bs_find plot_bs
channels_last: ChannelsLast
csv_logger: CSVLogger
ema: EMACallback
experiment: ExperimentCallback epoch_values fit_params
gradient: GradientAccumulation GradientClip
gradual_unfreezing: GradualUnfreezing
lr_finder: LRFinder SuggestedLRs minimum slide steep valley
mc_dropout: MCDropoutCallback mc_dropout_preds
mixed_precision: MixedPrecision to_bf16 to_fp16 to_fp32
mixup: CutMix MixLoss MixUp
mlflow_logger: MLflowCallback
param_scheduler: ParamScheduler
progress: ProgressCallback
recorder: Recorder
short_epoch: ShortEpochCallback
show_graph: ShowGraph
swa: SWACallback update_bn
tensorboard: TensorBoardCallback
tracker: EarlyStoppingCallback ReduceLROnPlateau SaveModelCallback TerminateOnNaNCallback TrackerCallback
train_eval: TrainEvalCallback
wandb_logger: WandbCallback
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
