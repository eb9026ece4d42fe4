"""Text metrics: the perplexity of a language model and the corpus BLEU of generated token sequences."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import torch

from layered.core.device import to_detach
from layered.train.metrics.metric import AvgLoss, Metric, MetricError

__all__ = ["BLEUScore", "Perplexity"]


class Perplexity(AvgLoss):
    """exp of the mean loss over the whole set; with a per-token cross entropy, the perplexity.

    The exponential is taken once, of the batch-size weighted mean loss, so the value does not
    depend on how the set was cut into batches (a mean of per-batch perplexities would).
    """

    @property
    def value(self) -> float | None:
        mean_loss = super().value
        return None if mean_loss is None else math.exp(mean_loss)

    @property
    def name(self) -> str:
        return "perplexity"


def _ngrams(tokens: Sequence[int], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


class BLEUScore(Metric):
    """Corpus BLEU (Papineni et al., 2002) of predicted token sequences against one reference each.

    Predictions are `(bs, seq_len, vocab)` scores (their argmax over `axis` is the predicted
    token) or `(bs, seq_len)` token ids; targets are `(bs, seq_len')` token ids. Tokens equal to
    `pad_idx` are dropped from both. Over the whole set, for n = 1..`max_n`, the n-grams of the
    predictions that also occur in their reference are counted (each at most as often as the
    reference has it) and divided by the predictions' n-grams; BLEU is the geometric mean of those
    precisions times the brevity penalty `min(1, exp(1 - r/c))`, with `c` and `r` the total
    predicted and reference lengths. The counts are summed over batches, so the value does not
    depend on how the set was cut into batches; a zero precision gives 0 (no smoothing).
    """

    def __init__(self, max_n: int = 4, axis: int = -1, pad_idx: int | None = None):
        if not isinstance(max_n, int) or max_n < 1:
            raise MetricError(
                f"BLEUScore: max_n is the longest n-gram and must be a positive int, got {max_n!r}"
            )
        self.max_n, self.axis, self.pad_idx = max_n, axis, pad_idx
        self.reset()

    def reset(self) -> None:
        self.matches = [0] * self.max_n  # clipped n-gram matches, per n
        self.totals = [0] * self.max_n  # predicted n-grams, per n
        self.pred_len, self.targ_len, self.n_seqs = 0, 0, 0

    def _rows(self, t: torch.Tensor, what: str) -> list[list[int]]:
        if t.ndim != 2:
            raise MetricError(
                f"{self.name}: {what} of shape {tuple(t.shape)}; expected (batch, sequence) token ids"
                + (" or (batch, sequence, vocab) scores" if what == "predictions" else "")
            )
        rows = t.long().tolist()
        return rows if self.pad_idx is None else [[i for i in r if i != self.pad_idx] for r in rows]

    def accumulate(self, learn) -> None:
        if not len(learn.yb):
            raise MetricError(f"{self.name} needs reference token ids as targets, but the batch has none")
        pred = to_detach(learn.pred).as_subclass(torch.Tensor)
        if pred.is_floating_point():
            pred = pred.argmax(dim=self.axis)
        preds = self._rows(pred, "predictions")
        targs = self._rows(to_detach(learn.yb[0]).as_subclass(torch.Tensor), "targets")
        if len(preds) != len(targs):
            raise MetricError(f"{self.name}: {len(preds)} predicted sequences for {len(targs)} references")
        self.n_seqs += len(preds)
        for p, t in zip(preds, targs):
            self.pred_len += len(p)
            self.targ_len += len(t)
            for n in range(1, self.max_n + 1):
                predicted, reference = _ngrams(p, n), _ngrams(t, n)
                self.matches[n - 1] += sum(min(c, reference[g]) for g, c in predicted.items())
                self.totals[n - 1] += max(len(p) - n + 1, 0)

    @property
    def value(self) -> float | None:
        if not self.n_seqs:
            return None
        if not all(self.matches):
            return 0.0
        log_precision = sum(math.log(m / t) for m, t in zip(self.matches, self.totals)) / self.max_n
        brevity = min(1.0, math.exp(1 - self.targ_len / self.pred_len))
        return brevity * math.exp(log_precision)
