"""Categorize, MultiCategorize, OneHotEncode and RegressionSetup: labels to tensors and back."""

import pytest
import torch

from layered.data.categorize import (
    Categorize,
    Category,
    CategoryMap,
    MultiCategorize,
    OneHotEncode,
    TensorCategory,
    TensorMultiCategory,
)
from layered.data.errors import DataError


def test_category_map_sorts_dedupes_and_puts_na_first():
    vocab = CategoryMap(["dog", "cat", "dog", "bird"], add_na=True)
    assert list(vocab) == ["#na#", "bird", "cat", "dog"]
    assert vocab.o2i["cat"] == 2 and vocab.map_objs(["dog", "bird"]) == [3, 1]


def test_categorize_learns_the_vocab_encodes_and_decodes():
    tfm = Categorize()
    tfm.setup(["b", "a", "b", "c"])
    assert list(tfm.vocab) == ["a", "b", "c"] and tfm.c == 3
    code = tfm("c")
    assert type(code) is TensorCategory and int(code) == 2
    back = tfm.decode(code)
    assert type(back) is Category and back == "c"
    with pytest.raises(DataError, match=r"label 'z' is not in the vocabulary .*3 labels: 'a', 'b', 'c'"):
        tfm("z")
    lenient = Categorize(vocab=["a", "b"], add_na=True)
    assert int(lenient("z")) == 0


def test_multi_categorize_and_one_hot_round_trip():
    multi = MultiCategorize()
    multi.setup([["x", "y"], ["z"]])
    codes = multi(["z", "x"])
    assert type(codes) is TensorMultiCategory and codes.tolist() == [2, 0]
    one_hot = OneHotEncode(c=3)
    vec = one_hot(codes)
    assert torch.equal(vec.as_subclass(torch.Tensor), torch.tensor([1.0, 0.0, 1.0]))
    assert one_hot.decode(vec).tolist() == [0, 2]
    assert list(multi.decode(codes)) == ["z", "x"]
    with pytest.raises(DataError, match="expects a list of labels per item, got the string 'x'"):
        multi("x")
