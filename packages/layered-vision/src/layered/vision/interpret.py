"""`SegmentationInterpretation`: per-class IoU and the pixel confusion matrix of a segmentation model.

Every pixel counts as an item of a classification (so `confusion_matrix`, `most_confused` and
the classification report work on pixels), while losses, and so `top_losses` and
`plot_top_losses`, are per image: the images the model segments worst.
"""

from __future__ import annotations

import torch

from layered.train.interpret import ClassificationInterpretation

__all__ = ["SegmentationInterpretation"]


class SegmentationInterpretation(ClassificationInterpretation):
    """Interpretation of a segmentation model: predictions `(n, classes, h, w)`, masks `(n, h, w)`."""

    def per_class_iou(self) -> dict[str, float]:
        """Intersection over union of each class's predicted and true pixels (nan for a class in neither)."""
        cm = self.confusion_matrix().double()
        tp = cm.diag()
        union = cm.sum(0) + cm.sum(1) - tp
        iou = torch.where(union > 0, tp / union.clamp_min(1), torch.full_like(tp, float("nan")))
        return {str(name): v for name, v in zip(self.vocab, iou.tolist())}

    def mean_iou(self) -> float:
        """The mean IoU over the classes present in the targets or the predictions."""
        values = torch.tensor(list(self.per_class_iou().values()), dtype=torch.float64)
        return values.nanmean().item()

    def per_class_accuracy(self) -> dict[str, float]:
        """The fraction of each class's true pixels predicted as that class (nan for a class never present)."""
        cm = self.confusion_matrix().double()
        total = cm.sum(1)
        acc = torch.where(total > 0, cm.diag() / total.clamp_min(1), torch.full_like(total, float("nan")))
        return {str(name): v for name, v in zip(self.vocab, acc.tolist())}
