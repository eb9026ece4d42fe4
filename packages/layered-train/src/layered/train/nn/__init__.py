"""Model bricks: layers, convolutions, residual blocks, attention, hooks and model summaries."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
attention: SelfAttention SimpleSelfAttention
conv: BatchNorm ConvLayer InstanceNorm NormType PixelShuffle_ICNR icnr_init
hooks: ActivationStats Hook HookCallback Hooks dummy_eval hook_output hook_outputs model_sizes num_features_model
layers: AdaptiveConcatPool2d AvgPool Embedding Flatten LinBnDrop MergeLayer Mish ResBlock SEModule SequentialEx SigmoidRange
summary: model_summary
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
