"""Losses that flatten their inputs and decode their outputs, and the default loss chosen from the targets."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
default: default_loss register_default_loss target_type
dice: DiceLoss
flattened: BCELossFlat BCEWithLogitsLossFlat BaseLossFlat CrossEntropyLossFlat FocalLoss FocalLossFlat L1LossFlat LabelSmoothingCrossEntropy LabelSmoothingCrossEntropyFlat LossError MSELossFlat
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
