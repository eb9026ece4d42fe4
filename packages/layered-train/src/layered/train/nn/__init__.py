"""Model bricks: layers, convolutions, residual blocks, attention, hooks and model summaries."""

from layered.core.lazy import lazy_face

_WHERE = {
    "SelfAttention": "layered.train.nn.attention",
    "SimpleSelfAttention": "layered.train.nn.attention",
    "BatchNorm": "layered.train.nn.conv",
    "ConvLayer": "layered.train.nn.conv",
    "InstanceNorm": "layered.train.nn.conv",
    "NormType": "layered.train.nn.conv",
    "PixelShuffle_ICNR": "layered.train.nn.conv",
    "icnr_init": "layered.train.nn.conv",
    "ActivationStats": "layered.train.nn.hooks",
    "Hook": "layered.train.nn.hooks",
    "HookCallback": "layered.train.nn.hooks",
    "Hooks": "layered.train.nn.hooks",
    "dummy_eval": "layered.train.nn.hooks",
    "hook_output": "layered.train.nn.hooks",
    "hook_outputs": "layered.train.nn.hooks",
    "model_sizes": "layered.train.nn.hooks",
    "num_features_model": "layered.train.nn.hooks",
    "AdaptiveConcatPool2d": "layered.train.nn.layers",
    "AvgPool": "layered.train.nn.layers",
    "Embedding": "layered.train.nn.layers",
    "Flatten": "layered.train.nn.layers",
    "LinBnDrop": "layered.train.nn.layers",
    "MergeLayer": "layered.train.nn.layers",
    "Mish": "layered.train.nn.layers",
    "ResBlock": "layered.train.nn.layers",
    "SEModule": "layered.train.nn.layers",
    "SequentialEx": "layered.train.nn.layers",
    "SigmoidRange": "layered.train.nn.layers",
    "model_summary": "layered.train.nn.summary",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
