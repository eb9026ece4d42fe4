"""Losses that flatten their inputs and decode their outputs, and the default loss chosen from the targets."""

from layered.core.lazy import lazy_face

_WHERE = {
    "default_loss": "layered.train.losses.default",
    "register_default_loss": "layered.train.losses.default",
    "target_type": "layered.train.losses.default",
    "BCEWithLogitsLossFlat": "layered.train.losses.flattened",
    "BaseLossFlat": "layered.train.losses.flattened",
    "CrossEntropyLossFlat": "layered.train.losses.flattened",
    "FocalLoss": "layered.train.losses.flattened",
    "FocalLossFlat": "layered.train.losses.flattened",
    "L1LossFlat": "layered.train.losses.flattened",
    "LabelSmoothingCrossEntropy": "layered.train.losses.flattened",
    "LabelSmoothingCrossEntropyFlat": "layered.train.losses.flattened",
    "LossError": "layered.train.losses.flattened",
    "MSELossFlat": "layered.train.losses.flattened",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
