import pytest
import torch

from layered.core.seed import set_seed
from layered.text.errors import TextError
from layered.text.numericalize import TensorText
from layered.text.sorted_loader import SortedDL, pad_input, pad_input_chunk

LENGTHS = [3, 7, 1, 5, 2, 9, 4, 8, 6, 10, 12, 11]
ITEMS = [(TensorText(torch.arange(2, n + 2)), n) for n in LENGTHS]  # ids from 2: 1 is padding


def real_lengths(x):
    return (x != 1).sum(1).tolist()


def test_pad_input_right_or_left():
    samples = [(TensorText(torch.tensor([5, 6, 7])), 0), (TensorText(torch.tensor([8])), 1)]
    right = pad_input(samples)
    assert [s[0].tolist() for s in right] == [[5, 6, 7], [8, 1, 1]] and right[1][1] == 1
    assert type(right[1][0]) is TensorText
    left = pad_input(samples, pad_idx=0, pad_first=True)
    assert [s[0].tolist() for s in left] == [[5, 6, 7], [0, 0, 8]]


def test_pad_input_chunk_puts_whole_chunks_first():
    samples = [(torch.tensor([5, 6]),), (torch.arange(10, 19),)]  # lengths 2 and 9, seq_len 3
    out = pad_input_chunk(samples, seq_len=3)
    assert out[0][0].tolist() == [1, 1, 1, 1, 1, 1, 5, 6, 1]  # two whole chunks, the text, a rest of one
    assert out[1][0].tolist() == list(range(10, 19))
    after = pad_input_chunk(samples, seq_len=3, pad_first=False)
    assert after[0][0].tolist() == [5, 6, 1, 1, 1, 1, 1, 1, 1]


def test_validation_batches_sorted_longest_first_padded_right():
    dl = SortedDL(ITEMS, bs=4)
    batches = list(dl)
    lengths = [n for x, _ in batches for n in real_lengths(x)]
    assert lengths == sorted(LENGTHS, reverse=True)
    x, y = batches[0]
    assert x.shape == (4, 12) and y.tolist() == [12, 11, 10, 9]
    assert x[3].tolist() == list(range(2, 11)) + [1, 1, 1]  # padding after the text
    assert type(x) is TensorText


def test_training_batches_similar_lengths_shuffled_longest_first():
    set_seed(0)
    items = [(TensorText(torch.arange(2, n + 2)), n) for n in range(1, 41)]
    dl = SortedDL(items, bs=4, shuffle=True, pad_first=True)
    firsts = []
    for _ in range(3):
        batches = list(dl)
        assert sum(len(y) for _, y in batches) == 40
        assert batches[0][1].max() == 40  # the longest text comes first
        for x, y in batches:
            assert x.shape[1] == int(y.max())  # padded to the batch's longest, no more
            assert x[:, -1].ne(1).all()  # padding first: every text ends the row
        firsts.append([tuple(y.tolist()) for _, y in batches[1:]])
    assert firsts[0] != firsts[1] or firsts[1] != firsts[2]


def test_res_given_and_checked():
    dl = SortedDL(ITEMS, res=[-n for n in LENGTHS], bs=12)
    assert next(iter(dl))[1].tolist() == sorted(LENGTHS)  # sorted by res, longest res first
    with pytest.raises(TextError, match="2 lengths for 12 items"):
        SortedDL(ITEMS, res=[1, 2])
    assert SortedDL(ITEMS, bs=5).new(ITEMS[:3]).res == [3, 7, 1]
