"""XResNet family: output shapes, parameter counts, Mish and self-attention options."""

import pytest
import torch
from torch import nn

from layered.train.nn.layers import Mish, ResBlock, SimpleSelfAttention
from layered.vision import xresnet as xr
from layered.vision.errors import VisionError

SMALL = ["xresnet18", "xresnet34", "xresnext18", "xse_resnet18", "xse_resnext18", "xresnet18_deep",
         "xresnet18_deeper", "xresnet34_deep", "xresnet34_deeper"]  # fmt: skip
LARGE = ["xresnet50", "xresnet101", "xresnet152", "xresnext34", "xresnext50", "xresnext101", "xse_resnet34",
         "xse_resnet50", "xse_resnet101", "xse_resnet152", "xse_resnext34", "xse_resnext50", "xse_resnext101",
         "xresnet50_deep", "xresnet50_deeper"]  # fmt: skip


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def meta_output(name, size=32, **kwargs):
    # built on the meta device: shapes and parameter counts without allocating or initialising weights
    with torch.device("meta"):
        model = getattr(xr, name)(n_out=7, **kwargs)
        return model, model(torch.empty(2, 3, size, size))


def test_every_factory_is_exported():
    assert set(SMALL + LARGE) <= set(xr.__all__)


@pytest.mark.parametrize("name", SMALL)
def test_small_factories_output_shape(name):
    model, out = meta_output(name)
    assert isinstance(model, xr.XResNet) and out.shape == (2, 7)


@pytest.mark.slow
@pytest.mark.parametrize("name", LARGE)
def test_large_factories_output_shape(name):
    _, out = meta_output(name)
    assert out.shape == (2, 7)


def test_parameter_counts_match_torchvision_plus_the_deeper_stem():
    # torchvision's resnet18/50 have 11,689,512 / 25,557,032 parameters; the three-conv stem
    # (3->32->32->64, 3x3, with batch norms: 28,768) replaces the 7x7 conv (9,536): +19,232
    with torch.device("meta"):
        assert n_params(xr.xresnet18()) == 11_689_512 + 19_232
        assert n_params(xr.xresnet50()) == 25_557_032 + 19_232
        # squeeze-excite adds two 1x1 convs per block; ResNeXt widens the grouped conv
        assert n_params(xr.xse_resnet18()) > n_params(xr.xresnet18())
        assert n_params(xr.xresnext50()) != n_params(xr.xresnet50())


def test_real_forward_backward_and_bag_of_tricks_layout():
    torch.manual_seed(0)
    model = xr.xresnet18(n_out=3, widen=0.25, stem_szs=(8, 8, 16), p=0.1)
    out = model(torch.randn(2, 3, 24, 24))
    assert out.shape == (2, 3) and torch.isfinite(out).all()
    out.sum().backward()
    stem = [m for m in model.children()][:3]
    assert [s[0].kernel_size for s in stem] == [(3, 3)] * 3 and stem[0][0].stride == (2, 2)
    block = model[5][0]  # first block of the second stage: it downsamples
    assert isinstance(block, ResBlock) and isinstance(block.idpath[0], nn.AvgPool2d)
    # the last norm of every residual branch starts at zero: the block starts as its shortcut
    assert float(block.convpath[-1][1].weight.detach().abs().sum()) == 0.0
    assert isinstance(model[-1], nn.Linear) and model[-1].in_features == 128
    # odd sizes go through too (ceil-mode pooling in the shortcuts)
    assert model(torch.randn(2, 3, 27, 31)).shape == (2, 3)


def test_mish_and_self_attention_options():
    model, out = meta_output("xresnet18", act_cls=Mish)
    assert out.shape == (2, 7)
    acts = {type(m) for m in model.modules() if isinstance(m, (nn.ReLU, nn.Mish))}
    assert acts == {nn.Mish}
    torch.manual_seed(0)
    model = xr.xresnet18(n_out=2, widen=0.25, stem_szs=(8, 8, 16), sa=True)
    sas = [name for name, m in model.named_modules() if isinstance(m, SimpleSelfAttention)]
    assert sas == ["4.1.convpath.2"]  # the last block of the first of four stages
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 2)
    plain = xr.xresnet18(n_out=2, widen=0.25, stem_szs=(8, 8, 16))
    assert n_params(model) > n_params(plain)


def test_one_and_three_dimensional_inputs_and_channels():
    with torch.device("meta"):
        seq = xr.xresnet18(n_out=4, ndim=1, c_in=2)
        assert seq(torch.empty(2, 2, 64)).shape == (2, 4)
        vol = xr.xresnet18(n_out=4, ndim=3, c_in=1, widen=0.25)
        assert vol(torch.empty(2, 1, 32, 32, 32)).shape == (2, 4)


def test_bad_configurations_name_the_argument():
    with pytest.raises(VisionError, match="layers"):
        xr.XResNet(ResBlock, 1, [2, 2, 2])
    with pytest.raises(VisionError, match="ks must be odd"):
        xr.xresnet18(ks=4)
    with pytest.raises(VisionError, match="divisible by expansion=4"):
        xr.xresnet50(stem_szs=(32, 32, 30))
