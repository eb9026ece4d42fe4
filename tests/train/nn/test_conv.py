"""ConvLayer (norm types, order, bias, init), norm layers, ICNR init and PixelShuffle_ICNR."""

import math

import pytest
import torch
from torch import nn

from layered.train.errors import TrainError
from layered.train.nn.conv import BatchNorm, ConvLayer, InstanceNorm, NormType, PixelShuffle_ICNR, icnr_init


def _n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_conv_layer_default_is_conv_bn_relu_without_bias():
    m = ConvLayer(3, 8)
    assert [type(x) for x in m] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert m[0].bias is None and m[0].padding == (1, 1)
    assert _n_params(m) == 3 * 8 * 9 + 2 * 8
    assert m(torch.randn(2, 3, 7, 7)).shape == (2, 8, 7, 7)
    assert ConvLayer(3, 8, stride=2)(torch.randn(2, 3, 7, 7)).shape == (2, 8, 4, 4)


def test_conv_layer_order_bias_and_extra():
    m = ConvLayer(3, 8, bn_1st=False, xtra=nn.Dropout(0.5))
    assert [type(x) for x in m] == [nn.Conv2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout]
    m = ConvLayer(3, 8, ks=1, norm_type=None, act_cls=None)
    assert len(m) == 1 and m[0].bias is not None and _n_params(m) == 3 * 8 + 8
    assert ConvLayer(3, 8, bias=True)[0].bias is not None


def test_conv_layer_ndim_and_transpose():
    assert isinstance(ConvLayer(2, 4, ndim=1)[1], nn.BatchNorm1d)
    assert ConvLayer(2, 4, ndim=1)(torch.randn(3, 2, 10)).shape == (3, 4, 10)
    assert ConvLayer(2, 4, ndim=3)(torch.randn(1, 2, 4, 4, 4)).shape == (1, 4, 4, 4, 4)
    up = ConvLayer(2, 4, ks=2, stride=2, transpose=True)
    assert isinstance(up[0], nn.ConvTranspose2d)
    assert up(torch.randn(1, 2, 5, 5)).shape == (1, 4, 10, 10)
    with pytest.raises(TrainError, match="ndim=4"):
        ConvLayer(2, 4, ndim=4)
    with pytest.raises(TrainError, match="NormType"):
        ConvLayer(2, 4, norm_type="batch")


def test_zero_norm_types_start_with_zero_gamma():
    bn = ConvLayer(3, 8, norm_type=NormType.BatchZero)[1]
    assert torch.equal(bn.weight, torch.zeros(8)) and torch.equal(bn.bias, torch.zeros(8))
    assert torch.equal(ConvLayer(3, 8)[1].weight, torch.ones(8))
    inn = ConvLayer(3, 8, norm_type=NormType.InstanceZero)[1]
    assert isinstance(inn, nn.InstanceNorm2d) and inn.affine and torch.equal(inn.weight, torch.zeros(8))
    assert ConvLayer(3, 8, norm_type=NormType.Instance)[0].bias is None
    assert isinstance(BatchNorm(5, ndim=3), nn.BatchNorm3d)
    assert torch.equal(InstanceNorm(5, NormType.InstanceZero, ndim=1).weight, torch.zeros(5))


def test_weight_and_spectral_norm_reparametrise_the_conv():
    torch.manual_seed(0)
    m = ConvLayer(3, 8, norm_type=NormType.Weight)
    conv = m[0]
    assert [type(x) for x in m][1:] == [nn.ReLU] and conv.bias is not None
    assert nn.utils.parametrize.is_parametrized(conv, "weight")
    g = conv.parametrizations.weight.original0
    # the norm is taken of the initial weight, so the effective weight is that weight
    torch.testing.assert_close(g.flatten(), conv.weight.detach().flatten(1).norm(dim=1))
    x = torch.randn(2, 3, 5, 5)
    plain = nn.functional.conv2d(x, conv.weight, conv.bias, padding=1).relu()
    torch.testing.assert_close(m(x), plain)

    s = ConvLayer(3, 8, norm_type=NormType.Spectral, act_cls=None)
    s.train()
    for _ in range(20):  # power iterations run in training mode
        s(x)
    top = torch.linalg.matrix_norm(s[0].weight.detach().flatten(1), ord=2)
    assert abs(top.item() - 1.0) < 1e-3


def test_auto_init_is_he_normal_for_relu_only():
    torch.manual_seed(0)
    w = ConvLayer(64, 64, ks=3)[0].weight.detach()
    assert abs(w.std().item() - math.sqrt(2 / (64 * 9))) < 0.003
    # torch's default (kaiming uniform, a=sqrt(5)) has std 1/sqrt(3 fan_in)
    w = ConvLayer(64, 64, ks=3, act_cls=nn.Sigmoid)[0].weight.detach()
    assert abs(w.std().item() - 1 / math.sqrt(3 * 64 * 9)) < 0.002
    m = ConvLayer(2, 3, norm_type=None, init=nn.init.ones_)
    assert torch.equal(m[0].weight, torch.ones(3, 2, 3, 3)) and torch.equal(m[0].bias, torch.zeros(3))
    with pytest.raises(TrainError, match="init"):
        ConvLayer(2, 3, init="he")


def test_icnr_init_gives_each_subpixel_group_one_kernel():
    w = torch.empty(4 * 9, 5, 3, 3)
    assert icnr_init(w, scale=3) is w
    groups = w.view(4, 9, 5, 3, 3)
    for i in range(9):
        assert torch.equal(groups[:, i], groups[:, 0])
    assert not torch.equal(groups[0, 0], groups[1, 0])
    with pytest.raises(TrainError, match="divisible"):
        icnr_init(torch.empty(10, 2, 1, 1), scale=2)


def test_pixel_shuffle_icnr_starts_as_nearest_upsampling():
    torch.manual_seed(0)
    m = PixelShuffle_ICNR(6, 4, scale=2)
    x = torch.randn(2, 6, 5, 5)
    out = m(x)
    assert out.shape == (2, 4, 10, 10)
    torch.testing.assert_close(out, out[:, :, ::2, ::2].repeat_interleave(2, 2).repeat_interleave(2, 3))
    assert out.abs().sum() > 0
    assert PixelShuffle_ICNR(6, scale=4, blur=True)(x).shape == (2, 6, 20, 20)
    bn = PixelShuffle_ICNR(6, 4, norm_type=NormType.Batch)
    assert [type(x) for x in bn[0]] == [nn.Conv2d, nn.ReLU, nn.BatchNorm2d]


@pytest.mark.parametrize("norm_type", [NormType.Weight, NormType.Spectral])
def test_weight_and_spectral_norm_convs_export_and_load_with_their_parametrizations(norm_type):
    from layered.core.config import from_config, to_config

    torch.manual_seed(0)
    m = nn.Sequential(ConvLayer(3, 8, norm_type=norm_type), ConvLayer(8, 4, norm_type=norm_type)).eval()
    x = torch.randn(2, 3, 5, 5)
    rebuilt = from_config(*to_config(m)).eval()
    assert nn.utils.parametrize.is_parametrized(rebuilt[0][0], "weight")
    assert set(rebuilt.state_dict()) == set(m.state_dict())
    for k, v in m.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[k], v), k
    torch.testing.assert_close(rebuilt(x), m(x))
