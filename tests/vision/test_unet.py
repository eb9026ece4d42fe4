"""DynamicUnet: output size equals input size for any encoder and size; skips found by the sizes."""

import functools

import pytest
import torch
import torchvision
from torch import nn

from layered.core.config import from_config, to_config
from layered.train.nn.layers import SelfAttention
from layered.vision.errors import VisionError
from layered.vision.learner import create_body
from layered.vision.unet import DynamicUnet, UnetBlock
from layered.vision.xresnet import xresnet18

tiny_xresnet = functools.partial(xresnet18, widen=0.125, stem_szs=(8, 8, 16))


@pytest.mark.parametrize("size", [(64, 64), (33, 47), (40, 25)])
def test_torchvision_resnet_encoder_on_meta(size):
    # meta tensors: the real resnet18 layout (shapes only, no weights allocated)
    with torch.device("meta"):
        body = create_body(torchvision.models.resnet18, pretrained=False)
        unet = DynamicUnet(body, 5, size)
        out = unet(torch.empty(2, 3, *size))
    assert out.shape == (2, 5, *size)
    # conv1/bn/relu at 1/2, layer1 at 1/4, layer2 1/8, layer3 1/16: outputs before each shrink
    assert unet.skip_idxs == [2, 4, 5, 6]
    assert [b.bn.num_features for b in unet.ups] == [256, 128, 64, 64]


@pytest.mark.parametrize("size", [(24, 24), (23, 19)])
def test_tiny_xresnet_encoder_real_forward(size):
    torch.manual_seed(0)
    body = create_body(tiny_xresnet, pretrained=False)
    unet = DynamicUnet(body, 3, size, blur=True, self_attention=True, bottle=True, y_range=(0, 1))
    x = torch.randn(2, 3, *size)
    out = unet(x)
    assert out.shape == (2, 3, *size) and torch.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1
    assert sum(isinstance(m, SelfAttention) for m in unet.modules()) == 1
    out.mean().backward()
    assert body[0][0].weight.grad is not None  # gradients reach the encoder
    # another input size than the one it was built for still comes back at the input's size
    assert unet(torch.randn(2, 3, 20, 36)).shape == (2, 3, 20, 36)


def test_plain_sequential_encoder_without_last_cross_and_build_leaves_mode_and_stats():
    encoder = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
    )  # fmt: skip
    encoder.train()
    unet = DynamicUnet(encoder, 2, 12, last_cross=False)
    assert unet.training and encoder.training
    assert float(encoder[1].running_mean.abs().sum()) == 0.0  # the dummy passes ran in eval mode
    assert unet.skip_idxs == [2, 5]
    assert not hasattr(unet, "cross")
    assert unet(torch.randn(2, 1, 12, 12)).shape == (2, 2, 12, 12)
    assert unet(torch.randn(2, 1, 13, 9)).shape == (2, 2, 13, 9)


def test_unet_block_merges_and_resizes_to_the_skip():
    block = UnetBlock(16, 8, final_div=False)
    out = block(torch.randn(2, 16, 4, 5), torch.randn(2, 8, 9, 11))
    assert out.shape == (2, (8 + 8) // 2, 9, 11)


def test_unet_holds_no_hooks_and_exports_as_a_configuration():
    torch.manual_seed(0)
    unet = DynamicUnet(create_body(tiny_xresnet, pretrained=False), 2, 16).eval()
    rebuilt = from_config(*to_config(unet)).eval()
    x = torch.randn(2, 3, 16, 16)
    assert torch.allclose(unet(x), rebuilt(x), atol=1e-6)


def test_bad_encoders_fail_clearly():
    with pytest.raises(VisionError, match=r"nn\.Sequential encoder"):
        DynamicUnet(nn.Conv2d(3, 8, 3), 2, 16)
    with pytest.raises(VisionError, match="never shrinks"):
        DynamicUnet(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU()), 2, 16)
    with pytest.raises(VisionError, match="img_size"):
        DynamicUnet(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU()), 2, (16, 0))


def _tiny_segmentation(root):
    """8 images of 16px with a dark square, and masks marking it."""
    import numpy as np
    from PIL import Image

    from layered.vision.dataloaders import SegmentationDataLoaders

    rng = np.random.default_rng(0)
    (root / "images").mkdir()
    (root / "masks").mkdir()
    for i in range(8):
        img = rng.integers(120, 255, (16, 16, 3)).astype(np.uint8)
        mask = np.zeros((16, 16), np.uint8)
        img[4:10, 4:10] //= 5
        mask[4:10, 4:10] = 1
        Image.fromarray(img).save(root / "images" / f"{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i}.png")
    files = sorted((root / "images").glob("*.png"))
    return SegmentationDataLoaders.from_label_func(
        root, files, lambda f: root / "masks" / f.name, codes=["bg", "square"], bs=4, seed=0
    )


def test_unet_learner_uses_the_datas_loss_else_the_registered_one_for_masks(tmp_path):
    import inspect

    from layered.train.losses.flattened import CrossEntropyLossFlat, FocalLossFlat
    from layered.vision.unet import unet_learner

    dls = _tiny_segmentation(tmp_path)
    default = unet_learner(dls, tiny_xresnet, pretrained=False)
    assert isinstance(default.loss_func, CrossEntropyLossFlat) and default.loss_func.axis == 1
    dls.loss_func = FocalLossFlat(axis=1)
    assert unet_learner(dls, tiny_xresnet, pretrained=False).loss_func is dls.loss_func
    given = CrossEntropyLossFlat(axis=1, weight=torch.tensor([1.0, 3.0]))
    assert unet_learner(dls, tiny_xresnet, pretrained=False, loss_func=given).loss_func is given
    params = inspect.signature(unet_learner).parameters
    assert {"loss_func", "opt_func", "lr", "cbs", "metrics", "wd", "moms", "default_cbs"} <= set(params)
    assert {"blur", "self_attention", "img_size"} <= set(params)
