"""ResBlock shapes, shortcut path, zero-initialised last norm, groups, squeeze-excite."""

import pytest
import torch
from torch import nn

from layered.train.nn.attention import SimpleSelfAttention
from layered.train.nn.conv import ConvLayer, NormType
from layered.train.nn.resblock import AvgPool, ResBlock, SEModule


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        (dict(expansion=1, ni=8, nf=8), (2, 8, 9, 9)),
        (dict(expansion=1, ni=8, nf=16, stride=2), (2, 16, 5, 5)),
        (dict(expansion=4, ni=2, nf=4, stride=2), (2, 16, 5, 5)),
        (dict(expansion=4, ni=2, nf=4, groups=2, reduction=4), (2, 16, 9, 9)),
        (dict(expansion=1, ni=8, nf=8, dw=True, sa=True, sym=True), (2, 8, 9, 9)),
    ],
)
def test_resblock_output_shapes(kwargs, shape):
    torch.manual_seed(0)
    assert ResBlock(**kwargs)(torch.randn(2, 8, 9, 9)).shape == shape


def test_resblock_starts_as_its_shortcut():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 6, 6)
    same = ResBlock(1, 8, 8).eval()
    torch.testing.assert_close(same(x), x.relu())
    down = ResBlock(2, 4, 8, stride=2).eval()
    last_norm = down.convpath[-1][-1]
    assert isinstance(last_norm, nn.BatchNorm2d) and torch.equal(last_norm.weight, torch.zeros(16))
    torch.testing.assert_close(down(x), down.idpath(x).relu())


def test_resblock_basic_and_bottleneck_paths():
    basic = ResBlock(1, 8, 16, stride=2)
    assert len(basic.convpath) == 2 and basic.convpath[0][0].stride == (2, 2)
    assert basic.convpath[0][0].kernel_size == (3, 3) and basic.convpath[1][0].kernel_size == (3, 3)
    neck = ResBlock(4, 4, 8, stride=2, nh1=6, nh2=10)
    ks = [c[0].kernel_size for c in neck.convpath]
    assert ks == [(1, 1), (3, 3), (1, 1)] and neck.convpath[1][0].stride == (2, 2)
    assert [c[0].out_channels for c in neck.convpath] == [6, 10, 32]
    assert neck.convpath[0][0].in_channels == 16
    # the last conv has no activation; the block's act comes after the add
    assert not any(isinstance(x, nn.ReLU) for x in neck.convpath[-1])


def test_resblock_bag_of_tricks_shortcut():
    blk = ResBlock(1, 8, 16, stride=2)
    pool, conv = blk.idpath
    assert isinstance(pool, nn.AvgPool2d) and pool.kernel_size == 2 and pool.ceil_mode
    assert isinstance(conv, ConvLayer) and conv[0].kernel_size == (1, 1) and conv[0].stride == (1, 1)
    assert not any(isinstance(x, nn.ReLU) for x in conv)
    assert isinstance(ResBlock(1, 8, 16, stride=2, pool_first=False).idpath[1], nn.AvgPool2d)
    assert len(ResBlock(1, 8, 8).idpath) == 0
    assert [type(x) for x in ResBlock(1, 8, 8, stride=2).idpath] == [nn.AvgPool2d]
    n_conv = sum(p.numel() for p in blk.convpath.parameters())
    assert sum(p.numel() for p in blk.parameters()) == n_conv + 8 * 16 + 2 * 16


def test_resblock_groups_and_depthwise():
    blk = ResBlock(1, 8, 8, groups=4, g2=2)
    assert blk.convpath[0][0].groups == 4 and blk.convpath[0][0].weight.shape == (8, 2, 3, 3)
    assert blk.convpath[1][0].groups == 2
    assert ResBlock(1, 8, 8, dw=True).convpath[0][0].groups == 8
    assert ResBlock(4, 2, 4, dw=True).convpath[1][0].groups == 4


def test_resblock_norm_type_act_and_ndim():
    blk = ResBlock(1, 4, 8, norm_type=NormType.Instance, act_cls=nn.SiLU, ndim=1)
    assert isinstance(blk.convpath[-1][-1], nn.InstanceNorm1d)
    assert torch.equal(blk.convpath[-1][-1].weight, torch.zeros(8))
    assert isinstance(blk.act, nn.SiLU) and isinstance(blk.convpath[0][-1], nn.SiLU)
    assert blk(torch.randn(2, 4, 11)).shape == (2, 8, 11)
    assert isinstance(AvgPool(3, ndim=3), nn.AvgPool3d)


def test_resblock_squeeze_excite_and_attention_are_appended():
    blk = ResBlock(1, 16, 16, reduction=4, sa=True)
    assert isinstance(blk.convpath[-2], SEModule) and isinstance(blk.convpath[-1], SimpleSelfAttention)


def test_se_module_gates_each_channel():
    torch.manual_seed(0)
    se = SEModule(16, reduction=4)
    assert sum(p.numel() for p in se.parameters()) == 16 * 4 + 4 + 4 * 16 + 16
    x = torch.randn(2, 16, 5, 5)
    gate = torch.sigmoid(se.gate[2][0](se.gate[1](x.mean(dim=(2, 3), keepdim=True))))
    assert ((gate > 0) & (gate < 1)).all()
    torch.testing.assert_close(se(x), x * gate)
