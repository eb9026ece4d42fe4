"""Metrics: the Metric API and the classification, regression, segmentation and text metrics."""

from layered.core.lazy import lazy_face

_WHERE = {
    "BalancedAccuracy": "layered.train.metrics.classification",
    "BrierScore": "layered.train.metrics.classification",
    "CohenKappa": "layered.train.metrics.classification",
    "F1Score": "layered.train.metrics.classification",
    "F1ScoreMulti": "layered.train.metrics.classification",
    "FBeta": "layered.train.metrics.classification",
    "MatthewsCorrCoef": "layered.train.metrics.classification",
    "Precision": "layered.train.metrics.classification",
    "PrecisionMulti": "layered.train.metrics.classification",
    "Recall": "layered.train.metrics.classification",
    "RecallMulti": "layered.train.metrics.classification",
    "RocAuc": "layered.train.metrics.classification",
    "RocAucBinary": "layered.train.metrics.classification",
    "RocAucMulti": "layered.train.metrics.classification",
    "accuracy": "layered.train.metrics.classification",
    "accuracy_multi": "layered.train.metrics.classification",
    "error_rate": "layered.train.metrics.classification",
    "top_k_accuracy": "layered.train.metrics.classification",
    "AccumMetric": "layered.train.metrics.metric",
    "AvgLoss": "layered.train.metrics.metric",
    "AvgMetric": "layered.train.metrics.metric",
    "AvgSmoothLoss": "layered.train.metrics.metric",
    "Metric": "layered.train.metrics.metric",
    "MetricError": "layered.train.metrics.metric",
    "ValueMetric": "layered.train.metrics.metric",
    "flatten_check": "layered.train.metrics.metric",
    "mk_metric": "layered.train.metrics.metric",
    "skm_to_layered": "layered.train.metrics.metric",
    "PearsonCorrCoef": "layered.train.metrics.regression",
    "R2Score": "layered.train.metrics.regression",
    "SpearmanCorrCoef": "layered.train.metrics.regression",
    "exp_rmspe": "layered.train.metrics.regression",
    "mae": "layered.train.metrics.regression",
    "mse": "layered.train.metrics.regression",
    "msle": "layered.train.metrics.regression",
    "rmse": "layered.train.metrics.regression",
    "Dice": "layered.train.metrics.segmentation",
    "DiceMulti": "layered.train.metrics.segmentation",
    "JaccardCoeff": "layered.train.metrics.segmentation",
    "Perplexity": "layered.train.metrics.text",
}

__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
