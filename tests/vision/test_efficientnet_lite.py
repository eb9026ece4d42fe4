"""EfficientNet-Lite0: its shape, and ImageNet weights in the efficientnet_pytorch naming loading into vision_learner."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.efficientnet_lite import (
    EfficientNetLite,
    MBConvLite,
    efficientnet_lite0,
    efficientnet_lite_state,
    lite_stats,
)
from layered.vision.errors import VisionError
from layered.vision.learner import vision_learner
from layered.vision.normalize import ImageNormalize

# (repeats, expanded channels of each block) of Lite0's seven stages, as published
REPEATS = (1, 2, 2, 3, 3, 4, 1)


def published_keys_and_shapes() -> dict[str, tuple]:
    """The 296 tensor names and shapes of the efficientnet_pytorch Lite0 weights file, written out independently."""
    stages = [(16, 3, 1), (24, 3, 2), (40, 5, 2), (80, 3, 3), (112, 5, 3), (192, 5, 4), (320, 3, 1)]

    def bn(prefix, n):
        return {f"{prefix}.{leaf}": (n,) for leaf in ("weight", "bias", "running_mean", "running_var")} | {
            f"{prefix}.num_batches_tracked": ()
        }

    shapes = {"_conv_stem.weight": (32, 3, 3, 3), **bn("_bn0", 32)}
    ni, block = 32, 0
    for stage, (nf, ks, repeats) in enumerate(stages):
        for _ in range(repeats):
            hidden = ni * (1 if stage == 0 else 6)
            b = f"_blocks.{block}"
            if stage:
                shapes |= {f"{b}._expand_conv.weight": (hidden, ni, 1, 1), **bn(f"{b}._bn0", hidden)}
            shapes |= {f"{b}._depthwise_conv.weight": (hidden, 1, ks, ks), **bn(f"{b}._bn1", hidden)}
            shapes |= {f"{b}._project_conv.weight": (nf, hidden, 1, 1), **bn(f"{b}._bn2", nf)}
            ni, block = nf, block + 1
    shapes |= {"_conv_head.weight": (1280, 320, 1, 1), **bn("_bn1", 1280)}
    return shapes | {"_fc.weight": (1000, 1280), "_fc.bias": (1000,)}


@pytest.fixture(scope="module")
def published_file(tmp_path_factory):
    """A weights file laid out like the published one, with seeded random values."""
    gen = torch.Generator().manual_seed(0)
    state = {
        k: torch.randint(0, 5, s) if k.endswith("num_batches_tracked") else torch.rand(s, generator=gen)
        for k, s in published_keys_and_shapes().items()
    }
    file = tmp_path_factory.mktemp("weights") / "efficientnet-lite0.pth"
    torch.save(state, file)
    return file, state


def test_lite0_shape_and_blocks():
    model = efficientnet_lite0(n_out=7)
    assert isinstance(model, EfficientNetLite)
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, 7)
    blocks = [m for m in model.modules() if isinstance(m, MBConvLite)]
    assert [len(stage) for stage in list(model)[1:8]] == list(REPEATS) and len(blocks) == 16
    assert not any(isinstance(m, (nn.SiLU, nn.Sigmoid)) for m in model.modules())  # Lite: ReLU6, no SE
    assert [b.residual for b in blocks[:3]] == [False, False, True]
    # 4,652,008 parameters at 1,000 classes, as the published weights hold
    assert sum(p.numel() for p in efficientnet_lite0().parameters()) == 4_652_008


def test_published_names_map_onto_every_key(published_file):
    _, state = published_file
    assert len(state) == 296
    renamed = efficientnet_lite_state(state)
    model = efficientnet_lite0()
    assert set(renamed) == set(model.state_dict())
    model.load_state_dict(renamed)
    assert torch.equal(model[0][0].weight, state["_conv_stem.weight"])
    assert torch.equal(model[2][1].depthwise[0].weight, state["_blocks.2._depthwise_conv.weight"])
    assert torch.equal(model[12].weight, state["_fc.weight"])
    with pytest.raises(VisionError, match=r"_blocks\.16\._bn1\.weight"):
        efficientnet_lite_state({"_blocks.16._bn1.weight": torch.zeros(1)})


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    """`<label>_<n>.png` files of two classes: bright on the left, or on the right."""
    root, rng = tmp_path_factory.mktemp("lite_imgs"), np.random.default_rng(0)
    for n in range(16):
        label = n % 2
        a = rng.integers(0, 40, (32, 32, 3)).astype(np.uint8)
        a[:, :16] += 180 if label == 0 else 0
        a[:, 16:] += 180 if label == 1 else 0
        Image.fromarray(a).save(root / f"{label}_{n}.png")
    return root


def test_vision_learner_loads_the_published_file_and_freezes_all_but_norms(published_file, digit_folder):
    file, state = published_file
    fnames = sorted(digit_folder.glob("*.png"))
    dls = ImageDataLoaders.from_name_re(
        digit_folder, fnames, r"^(\d)_\d+\.png$", valid_pct=0.25, seed=0, bs=4
    )
    learn = vision_learner(dls, efficientnet_lite0, weights=file)
    body = learn.model[0]
    assert len(body) == 9  # stem, seven stages, head conv: cut before the pool
    assert torch.equal(body[8][0].weight, state["_conv_head.weight"])
    norms = [f for f in dls.train.after_batch.fs if isinstance(f, ImageNormalize)]
    assert torch.allclose(norms[0].mean.flatten(), torch.tensor(lite_stats[0]))
    for m in body.modules():
        for p in m.parameters(recurse=False):
            assert p.requires_grad == isinstance(m, nn.BatchNorm2d)
    out = learn.model.eval()(dls.one_batch()[0])
    assert out.shape == (4, 2)
