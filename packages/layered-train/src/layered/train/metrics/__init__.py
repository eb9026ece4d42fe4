"""Metrics: the Metric API and the classification, regression, segmentation and text metrics."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
classification: APScoreBinary APScoreMulti BalancedAccuracy BrierScore CohenKappa F1Score F1ScoreMulti FBeta HammingLoss HammingLossMulti Jaccard JaccardMulti MatthewsCorrCoef Precision PrecisionMulti Recall RecallMulti RocAuc RocAucBinary RocAucMulti accuracy accuracy_multi error_rate top_k_accuracy
loss_terms: LossMetric LossMetrics
metric: AccumMetric AvgLoss AvgMetric AvgSmoothLoss Metric MetricError ValueMetric batch_floats flatten_check mk_metric skm_to_layered
regression: ExplainedVariance PearsonCorrCoef R2Score SpearmanCorrCoef exp_rmspe mae mse msle rmse
segmentation: Dice DiceMulti ForegroundAccuracy JaccardCoeff
text: BLEUScore Perplexity
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
