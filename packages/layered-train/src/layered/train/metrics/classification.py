"""Classification metrics.

Accuracy-like functions are means over items, so a Learner averages them over batches
(`AvgMetric`). The others are scikit-learn metrics computed once on the whole set
(`AccumMetric`); scikit-learn is imported when such a metric is created, not with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from layered.train.metrics.metric import AccumMetric, MetricError, flatten_check, skm_to_layered

__all__ = [
    "APScoreBinary",
    "APScoreMulti",
    "BalancedAccuracy",
    "BrierScore",
    "CohenKappa",
    "F1Score",
    "F1ScoreMulti",
    "FBeta",
    "HammingLoss",
    "HammingLossMulti",
    "Jaccard",
    "JaccardMulti",
    "MatthewsCorrCoef",
    "Precision",
    "PrecisionMulti",
    "Recall",
    "RecallMulti",
    "RocAuc",
    "RocAucBinary",
    "RocAucMulti",
    "accuracy",
    "accuracy_multi",
    "error_rate",
    "top_k_accuracy",
]


def accuracy(inp: torch.Tensor, targ: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Fraction of items whose highest-scored class (argmax over `axis`) is the target."""
    pred, targ = flatten_check(inp.as_subclass(torch.Tensor).argmax(dim=axis), targ, "accuracy")
    return (pred == targ).float().mean()


def error_rate(inp: torch.Tensor, targ: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Fraction of items misclassified: 1 - accuracy."""
    return 1 - accuracy(inp, targ, axis=axis)


def top_k_accuracy(inp: torch.Tensor, targ: torch.Tensor, k: int = 5, axis: int = -1) -> torch.Tensor:
    """Fraction of items whose target is among the `k` highest-scored classes."""
    inp = inp.as_subclass(torch.Tensor)
    if not 1 <= k <= inp.shape[axis]:
        raise MetricError(
            f"top_k_accuracy: k={k}, but predictions have {inp.shape[axis]} classes on axis {axis}"
        )
    top = inp.movedim(axis, -1).topk(k, dim=-1).indices
    _, targ = flatten_check(top[..., 0], targ, "top_k_accuracy")
    return (top.reshape(-1, k) == targ[:, None]).any(dim=1).float().mean()


def accuracy_multi(
    inp: torch.Tensor, targ: torch.Tensor, thresh: float = 0.5, sigmoid: bool = True
) -> torch.Tensor:
    """Multi-label accuracy: fraction of (item, label) pairs predicted right at `thresh`."""
    inp, targ = flatten_check(inp, targ, "accuracy_multi")
    probs = torch.sigmoid(inp) if sigmoid else inp
    return ((probs > thresh) == targ.bool()).float().mean()


def _argmax_metric(sk_name: str, **kwargs: Any) -> AccumMetric:
    """`sklearn.metrics.<sk_name>` on the argmax predictions (scikit-learn is imported now, when the metric is made)."""
    from sklearn import metrics

    return skm_to_layered(getattr(metrics, sk_name), **kwargs)


def F1Score(
    axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """F1 score of the argmax predictions over the whole set (scikit-learn's `f1_score`)."""
    return _argmax_metric("f1_score", **locals())


def FBeta(
    beta: float, axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """F-beta score of the argmax predictions over the whole set."""
    return _argmax_metric("fbeta_score", **locals())


def Precision(
    axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """Precision of the argmax predictions over the whole set."""
    return _argmax_metric("precision_score", **locals())


def Recall(
    axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """Recall of the argmax predictions over the whole set."""
    return _argmax_metric("recall_score", **locals())


def MatthewsCorrCoef(axis: int = -1, sample_weight=None) -> AccumMetric:
    """Matthews correlation coefficient of the argmax predictions over the whole set."""
    return _argmax_metric("matthews_corrcoef", **locals())


def CohenKappa(axis: int = -1, labels=None, weights: str | None = None, sample_weight=None) -> AccumMetric:
    """Cohen's kappa (`weights`: None, 'linear' or 'quadratic') of the argmax predictions."""
    return _argmax_metric("cohen_kappa_score", **locals())


def BalancedAccuracy(axis: int = -1, sample_weight=None, adjusted: bool = False) -> AccumMetric:
    """Balanced accuracy (the mean of per-class recalls) of the argmax predictions."""
    return _argmax_metric("balanced_accuracy_score", **locals())


def HammingLoss(axis: int = -1, sample_weight=None) -> AccumMetric:
    """Hamming loss (the fraction of items misclassified) of the argmax predictions over the whole set."""
    return _argmax_metric("hamming_loss", **locals())


def Jaccard(
    axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """Jaccard index |A∩B| / |A∪B| of the argmax predictions (scikit-learn's `jaccard_score`).

    `average="binary"` scores class `pos_label` against the rest; 'macro', 'micro' or 'weighted'
    combine the per-class indices of a multi-class problem.
    """
    return _argmax_metric("jaccard_score", **locals())


def RocAuc(
    axis: int = -1, average: str = "macro", sample_weight=None, max_fpr=None, multi_class: str = "ovr"
) -> AccumMetric:
    """Multi-class ROC AUC on the softmax probabilities over `axis` (one-vs-rest by default)."""
    from sklearn.metrics import roc_auc_score

    return AccumMetric(
        roc_auc_score,
        dim_argmax=axis,
        activation="softmax",
        to_np=True,
        invert_arg=True,
        flatten=False,
        average=average,
        sample_weight=sample_weight,
        max_fpr=max_fpr,
        multi_class=multi_class,
    )


def _class_probs(logits: torch.Tensor, axis: int, binary: bool) -> np.ndarray:
    """Probabilities from logits: of class 1 for one or two outputs, else of every class."""
    n_out = logits.shape[axis] if logits.ndim > 1 else 1
    if n_out == 1:
        return torch.sigmoid(logits.float()).reshape(-1).numpy()
    probs = torch.softmax(logits.float(), dim=axis)
    if n_out == 2:
        return probs.select(axis, 1).numpy()
    if binary:
        raise MetricError(
            f"a binary metric needs one or two outputs per item, found {n_out} on axis {axis} "
            f"(predictions of shape {tuple(logits.shape)})"
        )
    return probs.movedim(axis, -1).numpy()


def _on_probs(
    targs: torch.Tensor, logits: torch.Tensor, sk_func: Callable, axis: int, binary: bool, **kwargs
):
    return sk_func(targs.reshape(-1).numpy(), _class_probs(logits, axis, binary), **kwargs)


def _probability_metric(sk_func: Callable, axis: int, binary: bool, **kwargs: Any) -> AccumMetric:
    # the logits are stored raw (flatten=False): whether a sigmoid or a softmax gives the
    # probabilities depends on the number of outputs, which only the stored predictions show
    return AccumMetric(
        _on_probs,
        invert_arg=True,
        flatten=False,
        name=sk_func.__name__,
        sk_func=sk_func,
        axis=axis,
        binary=binary,
        **kwargs,
    )


def APScoreBinary(axis: int = -1, average: str = "macro", pos_label=1, sample_weight=None) -> AccumMetric:
    """Average precision (area under the precision-recall curve, as scikit-learn sums it) on the
    probability of class 1 (softmax of two outputs, or sigmoid of one), over the whole set."""
    from sklearn.metrics import average_precision_score

    return _probability_metric(
        average_precision_score,
        axis,
        binary=True,
        average=average,
        pos_label=pos_label,
        sample_weight=sample_weight,
    )


def RocAucBinary(axis: int = -1, average: str = "macro", sample_weight=None, max_fpr=None) -> AccumMetric:
    """Binary ROC AUC on the probability of class 1 (softmax of two outputs, or sigmoid of one)."""
    from sklearn.metrics import roc_auc_score

    return _probability_metric(
        roc_auc_score, axis, binary=True, average=average, sample_weight=sample_weight, max_fpr=max_fpr
    )


def BrierScore(axis: int = -1, sample_weight=None, pos_label=None) -> AccumMetric:
    """Brier score of the predicted probabilities (of class 1 for one or two outputs) on the whole set."""
    from sklearn.metrics import brier_score_loss

    return _probability_metric(
        brier_score_loss, axis, binary=False, sample_weight=sample_weight, pos_label=pos_label
    )


def _multi_label(func, thresh: float, sigmoid: bool, **kwargs) -> AccumMetric:
    """A scikit-learn metric on multi-label targets, each label predicted by `act(pred) >= thresh`."""
    return skm_to_layered(
        func, thresh=thresh, activation="sigmoid" if sigmoid else "no", flatten=False, **kwargs
    )


def F1ScoreMulti(
    thresh: float = 0.5, sigmoid: bool = True, labels=None, average: str = "macro", sample_weight=None
) -> AccumMetric:
    """Multi-label F1 score, each label predicted by `sigmoid(pred) >= thresh`."""
    from sklearn.metrics import f1_score

    return _multi_label(
        f1_score, thresh, sigmoid, labels=labels, average=average, sample_weight=sample_weight
    )


def PrecisionMulti(
    thresh: float = 0.5, sigmoid: bool = True, labels=None, average: str = "macro", sample_weight=None
) -> AccumMetric:
    """Multi-label precision, each label predicted by `sigmoid(pred) >= thresh`."""
    from sklearn.metrics import precision_score

    return _multi_label(
        precision_score, thresh, sigmoid, labels=labels, average=average, sample_weight=sample_weight
    )


def RecallMulti(
    thresh: float = 0.5, sigmoid: bool = True, labels=None, average: str = "macro", sample_weight=None
) -> AccumMetric:
    """Multi-label recall, each label predicted by `sigmoid(pred) >= thresh`."""
    from sklearn.metrics import recall_score

    return _multi_label(
        recall_score, thresh, sigmoid, labels=labels, average=average, sample_weight=sample_weight
    )


def HammingLossMulti(thresh: float = 0.5, sigmoid: bool = True, sample_weight=None) -> AccumMetric:
    """Multi-label Hamming loss: the fraction of (item, label) pairs wrong, each label predicted by
    `sigmoid(pred) >= thresh`."""
    from sklearn.metrics import hamming_loss

    return _multi_label(hamming_loss, thresh, sigmoid, sample_weight=sample_weight)


def JaccardMulti(
    thresh: float = 0.5, sigmoid: bool = True, labels=None, average: str = "macro", sample_weight=None
) -> AccumMetric:
    """Multi-label Jaccard index, each label predicted by `sigmoid(pred) >= thresh` (per-label
    indices combined by `average`: 'macro', 'micro', 'weighted' or 'samples')."""
    from sklearn.metrics import jaccard_score

    return _multi_label(
        jaccard_score, thresh, sigmoid, labels=labels, average=average, sample_weight=sample_weight
    )


def APScoreMulti(sigmoid: bool = True, average: str = "macro", sample_weight=None) -> AccumMetric:
    """Multi-label average precision on the per-label probabilities (`sigmoid(pred)`), combined by `average`."""
    from sklearn.metrics import average_precision_score

    return skm_to_layered(
        average_precision_score,
        activation="sigmoid" if sigmoid else "no",
        is_class=False,
        flatten=False,
        average=average,
        sample_weight=sample_weight,
    )


def RocAucMulti(
    sigmoid: bool = True, average: str = "macro", sample_weight=None, max_fpr=None
) -> AccumMetric:
    """Multi-label ROC AUC on the per-label probabilities (`sigmoid(pred)`)."""
    from sklearn.metrics import roc_auc_score

    return skm_to_layered(
        roc_auc_score,
        activation="sigmoid" if sigmoid else "no",
        is_class=False,
        flatten=False,
        average=average,
        sample_weight=sample_weight,
        max_fpr=max_fpr,
    )
