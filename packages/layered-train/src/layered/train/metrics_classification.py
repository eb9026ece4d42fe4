"""Classification metrics: accuracy-like averages, and scikit-learn's metrics on the whole set."""

from __future__ import annotations

import torch

from layered.train.metric import AccumMetric, skm_to_layered

__all__ = [
    "BalancedAccuracy",
    "BrierScore",
    "CohenKappa",
    "F1Score",
    "FBeta",
    "MatthewsCorrCoef",
    "Precision",
    "Recall",
    "RocAuc",
    "RocAucBinary",
    "accuracy",
    "accuracy_multi",
    "error_rate",
    "top_k_accuracy",
]


def _plain(t):
    return t.as_subclass(torch.Tensor)


def accuracy(inp: torch.Tensor, targ: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Fraction of predictions whose argmax over `axis` equals the target."""
    pred = _plain(inp).argmax(dim=axis)
    return (pred == _plain(targ)).float().mean()


def error_rate(inp: torch.Tensor, targ: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """1 - accuracy."""
    return 1 - accuracy(inp, targ, axis=axis)


def top_k_accuracy(inp: torch.Tensor, targ: torch.Tensor, k: int = 5, axis: int = -1) -> torch.Tensor:
    """Fraction of targets among the `k` highest-scored classes."""
    top = _plain(inp).topk(k=k, dim=axis).indices
    return (top == _plain(targ).unsqueeze(axis)).any(dim=axis).float().mean()


def accuracy_multi(
    inp: torch.Tensor, targ: torch.Tensor, thresh: float = 0.5, sigmoid: bool = True
) -> torch.Tensor:
    """Multi-label accuracy: fraction of (item, label) pairs predicted right at `thresh`."""
    inp = torch.sigmoid(_plain(inp)) if sigmoid else _plain(inp)
    return ((inp > thresh) == _plain(targ).bool()).float().mean()


def _sk(name: str):
    import sklearn.metrics

    return getattr(sklearn.metrics, name)


class _Lazy:
    """A scikit-learn metric function looked up when first called (sklearn imports lazily)."""

    def __init__(self, name: str):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return _sk(self.__name__)(*args, **kwargs)


def F1Score(
    axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """F1 score over the whole set (scikit-learn's f1_score)."""
    return skm_to_layered(
        _Lazy("f1_score"),
        axis=axis,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
    )


def FBeta(
    beta: float, axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """F-beta score over the whole set."""
    return skm_to_layered(
        _Lazy("fbeta_score"),
        axis=axis,
        beta=beta,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
    )


def Precision(
    axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """Precision over the whole set."""
    return skm_to_layered(
        _Lazy("precision_score"),
        axis=axis,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
    )


def Recall(
    axis: int = -1, labels=None, pos_label=1, average: str = "binary", sample_weight=None
) -> AccumMetric:
    """Recall over the whole set."""
    return skm_to_layered(
        _Lazy("recall_score"),
        axis=axis,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
    )


def MatthewsCorrCoef(axis: int = -1, sample_weight=None) -> AccumMetric:
    """Matthews correlation coefficient over the whole set."""
    return skm_to_layered(_Lazy("matthews_corrcoef"), axis=axis, sample_weight=sample_weight)


def CohenKappa(axis: int = -1, labels=None, weights=None, sample_weight=None) -> AccumMetric:
    """Cohen's kappa over the whole set."""
    return skm_to_layered(
        _Lazy("cohen_kappa_score"), axis=axis, labels=labels, weights=weights, sample_weight=sample_weight
    )


def BalancedAccuracy(axis: int = -1, sample_weight=None, adjusted: bool = False) -> AccumMetric:
    """Balanced accuracy (mean per-class recall) over the whole set."""
    return skm_to_layered(
        _Lazy("balanced_accuracy_score"), axis=axis, sample_weight=sample_weight, adjusted=adjusted
    )


def RocAuc(
    axis: int = -1, average: str = "macro", sample_weight=None, max_fpr=None, multi_class: str = "ovr"
) -> AccumMetric:
    """Multi-class ROC AUC on softmax probabilities, over the whole set."""
    return AccumMetric(
        _Lazy("roc_auc_score"),
        activation="softmax",
        flatten=False,
        to_np=True,
        invert_arg=True,
        name="roc_auc_score",
        average=average,
        sample_weight=sample_weight,
        max_fpr=max_fpr,
        multi_class=multi_class,
    )


def _positive_prob(y_true, probs, **kwargs):
    return _sk("roc_auc_score")(y_true, probs[:, 1] if probs.ndim == 2 else probs, **kwargs)


_positive_prob.__name__ = "roc_auc_score"


def RocAucBinary(axis: int = -1, average: str = "macro", sample_weight=None, max_fpr=None) -> AccumMetric:
    """Binary ROC AUC: the probability of class 1 (softmax of 2 outputs, or sigmoid of 1)."""
    return AccumMetric(
        _positive_prob,
        activation="softmax",
        flatten=False,
        to_np=True,
        invert_arg=True,
        name="roc_auc_score",
        average=average,
        sample_weight=sample_weight,
        max_fpr=max_fpr,
    )


def _brier(y_true, probs, **kwargs):
    return _sk("brier_score_loss")(y_true, probs[:, 1] if probs.ndim == 2 else probs, **kwargs)


_brier.__name__ = "brier_score_loss"


def BrierScore(axis: int = -1, sample_weight=None, pos_label=None) -> AccumMetric:
    """Brier score of the probability of class 1, over the whole set."""
    return AccumMetric(
        _brier,
        activation="softmax",
        flatten=False,
        to_np=True,
        invert_arg=True,
        name="brier_score_loss",
        sample_weight=sample_weight,
        pos_label=pos_label,
    )
