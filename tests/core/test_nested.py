from collections import OrderedDict, defaultdict, namedtuple

import pytest
import torch

from layered.core.errors import LayeredError
from layered.core.nested import apply, find_bs

Pair = namedtuple("Pair", "a b")


class Marked(torch.Tensor):
    """A stand-in for a semantic tensor type."""


def test_apply_keeps_containers_and_reaches_every_tensor():
    b = {"x": [torch.ones(2), (torch.zeros(3), 5)], "y": Pair(torch.ones(1), "label")}
    out = apply(lambda t, k: t + k, b, 2)
    assert isinstance(out["x"], list) and isinstance(out["x"][1], tuple) and isinstance(out["y"], Pair)
    assert torch.equal(out["x"][0], torch.full((2,), 3.0))
    assert torch.equal(out["x"][1][0], torch.full((3,), 2.0)) and out["x"][1][1] == 5
    assert out["y"].b == "label" and torch.equal(out["y"].a, torch.full((1,), 3.0))
    assert torch.equal(b["x"][0], torch.ones(2))  # the input is not modified


def test_apply_passes_keyword_arguments_and_leaves_other_values():
    out = apply(torch.clamp, [torch.tensor([-2.0, 0.5, 3.0]), None, "s"], min=0.0, max=1.0)
    assert out[0].tolist() == [0.0, 0.5, 1.0] and out[1] is None and out[2] == "s"
    assert apply(torch.neg, 4) == 4


def test_apply_keeps_dict_subclasses():
    od = OrderedDict([("b", torch.ones(1)), ("a", torch.zeros(1))])
    out = apply(lambda t: t * 3, od)
    assert type(out) is OrderedDict and list(out) == ["b", "a"] and out["b"].item() == 3.0
    dd = defaultdict(list, {"k": torch.ones(1)})
    out = apply(lambda t: t * 3, dd)
    assert type(out) is defaultdict and out.default_factory is list and out["k"].item() == 3.0
    assert dd["k"].item() == 1.0


def test_apply_keeps_tensor_subclasses():
    out = apply(lambda t: t * 2, (torch.ones(2).as_subclass(Marked),))
    assert type(out[0]) is Marked and out[0].tolist() == [2.0, 2.0]


def test_find_bs_uses_the_first_tensor():
    assert find_bs(([None, torch.zeros(7, 3)], torch.zeros(2))) == 7
    assert find_bs({"a": torch.zeros(4, 1)}) == 4
    assert find_bs(Pair("name", torch.zeros(5))) == 5
    assert find_bs(torch.zeros(3, 2)) == 3


def test_find_bs_errors_name_the_problem():
    with pytest.raises(LayeredError, match="found none in a list"):
        find_bs(["a", 1])
    with pytest.raises(LayeredError, match="0-d"):
        find_bs(torch.tensor(3))
