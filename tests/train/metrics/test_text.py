"""Perplexity and corpus BLEU: exact over uneven batches (BLEU against a hand-computed example and nltk)."""

import math
from types import SimpleNamespace

import pytest
import torch
from metric_feed import feed as feed_batches

from layered.train.metrics.metric import MetricError
from layered.train.metrics.text import BLEUScore, Perplexity


def test_perplexity_is_exp_of_the_item_weighted_mean_loss():
    item_losses = torch.linspace(0.5, 2.5, 50)
    perplexity = Perplexity()
    assert perplexity.value is None and perplexity.name == "perplexity"
    perplexity.reset()
    start = 0
    for n in (7, 30, 1, 12):  # uneven: a plain mean of batch losses would be wrong
        chunk = item_losses[start : start + n]
        perplexity.accumulate(SimpleNamespace(pred=chunk, yb=(chunk,), xb=(chunk,), loss=chunk.mean()))
        start += n
    assert perplexity.value == pytest.approx(math.exp(item_losses.mean().item()), rel=1e-6)


def test_bleu_of_a_hand_computed_example():
    # "the cat sat on the mat" against "the cat is on the mat": 5/6 unigrams, 3/5 bigrams and
    # 1/4 trigrams match, the lengths agree: BLEU-3 = (5/6 * 3/5 * 1/4) ** (1/3) = 1/8 ** (1/3)
    cand, ref = torch.tensor([[1, 2, 3, 4, 1, 5]]), torch.tensor([[1, 2, 6, 4, 1, 5]])
    assert feed_batches(BLEUScore(max_n=3), cand, ref, (1,)) == pytest.approx(0.5)
    assert feed_batches(BLEUScore(), cand, ref, (1,)) == 0.0  # no 4-gram in common, no smoothing
    # a prefix of the reference: every precision is 1, the brevity penalty is exp(1 - 6/3)
    short = torch.tensor([[1, 2, 3, 0, 0, 0]])
    full = torch.tensor([[1, 2, 3, 4, 5, 6]])
    assert feed_batches(BLEUScore(max_n=3, pad_idx=0), short, full, (1,)) == pytest.approx(math.exp(-1))
    assert feed_batches(BLEUScore(), full, full, (1,)) == pytest.approx(1.0)


def test_bleu_over_uneven_batches_equals_nltk_corpus_bleu():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    g = torch.Generator().manual_seed(0)
    n, seq, vocab, pad = 20, 12, 5, 0
    targs = torch.randint(1, vocab, (n, seq), generator=g)
    pred_ids = torch.where(
        torch.rand(n, seq, generator=g) < 0.3, torch.randint(1, vocab, (n, seq), generator=g), targs
    )
    lengths = torch.randint(4, seq + 1, (n,), generator=g)
    pred_ids[torch.arange(seq)[None] >= lengths[:, None]] = pad  # predictions of different lengths
    logits = torch.nn.functional.one_hot(pred_ids, vocab).float() + 0.1 * torch.rand(
        n, seq, vocab, generator=g
    )
    hyps = [[i for i in row if i != pad] for row in pred_ids.tolist()]
    expected = nltk_bleu.corpus_bleu([[t] for t in targs.tolist()], hyps)
    assert 0.1 < expected < 0.9
    value = feed_batches(BLEUScore(pad_idx=pad), logits, targs, (7, 2, 1, 10))
    assert value == pytest.approx(expected, rel=1e-9)
    starts, sizes = (0, 7, 9, 10), (7, 2, 1, 10)
    per_batch = [
        feed_batches(BLEUScore(pad_idx=pad), logits[s : s + k], targs[s : s + k], (k,))
        for s, k in zip(starts, sizes)
    ]
    assert sum(per_batch) / len(per_batch) != pytest.approx(expected, rel=1e-3)  # a corpus score, not a mean


def test_bleu_names_bad_inputs():
    assert BLEUScore().value is None and BLEUScore().name == "bleu_score"
    with pytest.raises(MetricError, match="max_n is the longest n-gram and must be a positive int, got 0"):
        BLEUScore(max_n=0)
    with pytest.raises(
        MetricError, match=r"predictions of shape \(2,\); expected \(batch, sequence\) token ids"
    ):
        feed_batches(BLEUScore(), torch.tensor([1, 2]), torch.tensor([[1, 2]]), (2,))
    with pytest.raises(MetricError, match="2 predicted sequences for 1 references"):
        feed_batches(BLEUScore(), torch.ones(2, 3, dtype=torch.long), torch.ones(1, 3), (2,))
