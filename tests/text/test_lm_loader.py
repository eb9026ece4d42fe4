import pytest
import torch

from layered.core.seed import set_seed
from layered.text.errors import TextError
from layered.text.lm_loader import LMDataLoader
from layered.text.numericalize import LMTensorText, TensorText

DOCS = [torch.arange(start, start + n) for start, n in [(0, 10), (100, 7), (200, 14), (300, 2)]]  # 33 tokens


def epoch(dl):
    return [(x.clone(), y.clone()) for x, y in dl]


def rows(batches, bs):
    """Each row's stream over the epoch: the batches' rows joined."""
    return [torch.cat([x[r] for x, _ in batches]) for r in range(bs)], [
        torch.cat([y[r] for _, y in batches]) for r in range(bs)
    ]


def test_every_token_once_and_targets_shifted_by_one():
    dl = LMDataLoader(DOCS, bs=4, seq_len=3)  # (33 - 1) / 4 = 8 tokens per row: batches of 3, 3, 2
    batches = epoch(dl)
    assert len(dl) == len(batches) == 3 and [x.shape for x, _ in batches] == [(4, 3), (4, 3), (4, 2)]
    assert all(type(x) is LMTensorText and type(y) is TensorText for x, y in batches)
    stream = torch.cat(DOCS)
    xs, ys = rows(batches, 4)
    assert torch.equal(torch.cat(xs), stream[:32])  # every input token exactly once, rows contiguous
    assert torch.equal(torch.cat(ys), stream[1:33])  # and each target is the next token
    for x, y in zip(xs, ys):
        assert torch.equal(x[1:], y[:-1])


def test_shuffle_reorders_texts_not_tokens_and_keeps_coverage():
    set_seed(3)
    dl = LMDataLoader(DOCS, bs=2, seq_len=5, shuffle=True)
    orders = set()
    for _ in range(4):
        xs, ys = rows(epoch(dl), 2)
        stream = torch.cat([*xs, ys[-1][-1:]])  # the inputs, and the last target: all 33 tokens
        order = tuple(int(t) // 100 for t in stream if int(t) % 100 == 0)  # where each text starts
        assert sorted(order) == [0, 1, 2, 3]
        assert torch.equal(stream, torch.cat([DOCS[i] for i in order]))  # whole texts, in that order
        orders.add(order)
    assert len(orders) > 1  # a new order each epoch


def test_lens_size_the_loader_before_reading_and_are_checked():
    dl = LMDataLoader(DOCS, lens=[10, 7, 14, 2], bs=4, seq_len=3)
    assert dl._docs is None and len(dl) == 3
    with pytest.raises(TextError, match="lens do not match"):
        list(LMDataLoader(DOCS, lens=[10, 7, 13, 3], bs=4, seq_len=3))
    with pytest.raises(TextError, match="cannot fill bs=64 rows"):
        LMDataLoader(DOCS, bs=64)
    with pytest.raises(TextError, match="expected a 1-d tensor"):
        LMDataLoader([torch.zeros(2, 2)], bs=1)


def test_new_recomputes_the_layout():
    dl = LMDataLoader(DOCS, bs=4, seq_len=3)
    wider = dl.new(bs=2, seq_len=8)
    assert [x.shape for x, _ in wider] == [(2, 8), (2, 8)]
    other = dl.new([torch.arange(9)], bs=2)
    assert [x.tolist() for x, _ in other] == [[[0, 1, 2], [4, 5, 6]], [[3], [7]]]


def test_workers_give_the_same_batches():
    dl = LMDataLoader(DOCS, bs=2, seq_len=4)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(epoch(dl), epoch(dl.new(num_workers=2))))


def test_the_loader_declares_its_targets_so_the_default_loss_is_cross_entropy():
    from types import SimpleNamespace

    from layered.train.losses.default import default_loss, target_type
    from layered.train.losses.flattened import CrossEntropyLossFlat

    dl = LMDataLoader([TensorText(torch.arange(20))], bs=2, seq_len=3)
    dls = SimpleNamespace(train=dl, n_inp=1)
    assert target_type(dls) is TensorText
    assert isinstance(default_loss(dls), CrossEntropyLossFlat)


def test_backwards_reads_the_stream_from_its_end():
    forwards = rows(epoch(LMDataLoader(DOCS, bs=4, seq_len=3)), 4)
    dl = LMDataLoader(DOCS, bs=4, seq_len=3, backwards=True)
    xs, ys = rows(epoch(dl), 4)
    stream = torch.cat(DOCS).flip(0)
    assert torch.equal(torch.cat(xs), stream[:32]) and torch.equal(torch.cat(ys), stream[1:33])
    assert not torch.equal(torch.cat(xs), torch.cat(forwards[0]))
    assert dl.new(bs=2).backwards  # copies keep the direction
    with pytest.raises(TextError, match="backwards must be True or False, got 'yes'"):
        LMDataLoader(DOCS, backwards="yes")
