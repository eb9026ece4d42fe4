"""The simple model bricks: Flatten, SigmoidRange, Embedding, LinBnDrop, pooling, skips, Mish."""

import pytest
import torch
from torch import nn

from layered.core.config import from_config, to_config
from layered.train.errors import TrainError
from layered.train.nn.layers import (
    AdaptiveConcatPool2d,
    ConvLayer,
    Embedding,
    Flatten,
    LinBnDrop,
    MergeLayer,
    Mish,
    ResBlock,
    SequentialEx,
    SigmoidRange,
)


def test_flatten_keeps_batch_dim_unless_full():
    x = torch.arange(24.0).view(2, 3, 4)
    assert Flatten()(x).shape == (2, 12)
    assert torch.equal(Flatten()(x)[1], torch.arange(12.0, 24.0))
    assert Flatten(full=True)(x).shape == (24,)
    assert Flatten()(x.transpose(1, 2)).shape == (2, 12)  # non-contiguous input works


def test_sigmoid_range_maps_into_bounds():
    sr = SigmoidRange(-1.0, 5.0)
    out = sr(torch.tensor([-100.0, 0.0, 100.0]))
    torch.testing.assert_close(out, torch.tensor([-1.0, 2.0, 5.0]))
    with pytest.raises(TrainError, match="low < high"):
        SigmoidRange(3, 3)


def test_embedding_is_truncated_normal():
    torch.manual_seed(0)
    emb = Embedding(500, 40, std=0.02)
    assert isinstance(emb, nn.Embedding) and emb.weight.shape == (500, 40)
    w = emb.weight.detach()
    assert w.abs().max() <= 0.04 + 1e-7
    # a normal truncated at ±2σ has std ≈ 0.88σ
    assert 0.016 < w.std().item() < 0.019
    assert abs(w.mean().item()) < 1e-3


def test_lin_bn_drop_orders_and_bias():
    act = nn.ReLU()
    m = LinBnDrop(4, 3, p=0.2, act=act)
    assert [type(x) for x in m] == [nn.BatchNorm1d, nn.Dropout, nn.Linear, nn.ReLU]
    assert m[0].num_features == 4 and m[1].p == 0.2 and m[2].bias is not None

    m = LinBnDrop(4, 3, p=0.2, act=act, lin_first=True)
    assert [type(x) for x in m] == [nn.Linear, nn.ReLU, nn.BatchNorm1d, nn.Dropout]
    assert m[2].num_features == 3 and m[0].bias is None  # the norm's shift replaces the bias

    m = LinBnDrop(4, 3, bn=False)
    assert [type(x) for x in m] == [nn.Linear]
    assert sum(p.numel() for p in m.parameters()) == 4 * 3 + 3
    assert m(torch.randn(5, 4)).shape == (5, 3)
    with pytest.raises(TrainError, match="dropout"):
        LinBnDrop(4, 3, p=1.0)


def test_adaptive_concat_pool_is_max_then_mean():
    x = torch.randn(2, 3, 5, 5)
    out = AdaptiveConcatPool2d()(x)
    assert out.shape == (2, 6, 1, 1)
    torch.testing.assert_close(out[:, :3, 0, 0], x.amax(dim=(2, 3)))
    torch.testing.assert_close(out[:, 3:, 0, 0], x.mean(dim=(2, 3)))
    assert AdaptiveConcatPool2d(2)(x).shape == (2, 6, 2, 2)


def _double():
    lin = nn.Linear(3, 3, bias=False)
    with torch.no_grad():
        lin.weight.copy_(2 * torch.eye(3))
    return lin


def test_sequential_ex_gives_each_layer_the_block_input():
    x = torch.tensor([[1.0, 2.0, 3.0]])
    block = SequentialEx(_double(), _double(), MergeLayer())
    torch.testing.assert_close(block(x), 4 * x + x)
    dense = SequentialEx(_double(), MergeLayer(dense=True))
    torch.testing.assert_close(dense(x), torch.cat([2 * x, x], dim=1))
    assert not hasattr(x, "orig")  # the input is left as it was
    assert len(block) == 3 and isinstance(block[2], MergeLayer)
    block.append(nn.Identity())
    assert len(block) == 4


def test_sequential_ex_backpropagates_through_the_skip():
    x = torch.ones(1, 3, requires_grad=True)
    SequentialEx(_double(), MergeLayer())(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((1, 3), 3.0))


def test_merge_layer_outside_sequential_ex_fails():
    with pytest.raises(TrainError, match="SequentialEx"):
        MergeLayer()(torch.ones(2))


def test_mish_is_torchs():
    assert Mish is nn.Mish
    x = torch.tensor([0.0, 1.0])
    torch.testing.assert_close(Mish()(x), x * torch.tanh(nn.functional.softplus(x)))


def test_bricks_survive_a_spec_round_trip():
    torch.manual_seed(0)
    model = nn.Sequential(
        SequentialEx(ConvLayer(3, 3), MergeLayer()),
        ResBlock(1, 3, 4, stride=2, reduction=2),
        AdaptiveConcatPool2d(),
        Flatten(),
        LinBnDrop(8, 2, p=0.1),
        SigmoidRange(0, 5),
    ).eval()
    copy = from_config(*to_config(model)).eval()
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(copy(x), model(x))
