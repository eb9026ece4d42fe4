"""vision_learner: trains from scratch, infers n_out and loss, loads weights from a file or the cache, freezes."""

import functools

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from layered.core.seed import set_seed
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.losses.flattened import CrossEntropyLossFlat, MSELossFlat
from layered.train.metrics.classification import accuracy
from layered.train.nn.layers import AdaptiveConcatPool2d, SigmoidRange
from layered.vision.blocks import ImageBlock, PointBlock
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.errors import VisionError
from layered.vision.learner import (
    BodyHeadSplitter,
    cnn_learner,
    create_body,
    create_head,
    get_c,
    vision_learner,
)
from layered.vision.normalize import ImageNormalize
from layered.vision.xresnet import xresnet18

tiny = functools.partial(xresnet18, widen=0.125, stem_szs=(8, 8, 16))


def _image(label, rng):
    a = rng.integers(60, 200, (16, 16, 3)).astype(np.uint8)
    dark = {"top": np.s_[:8], "bottom": np.s_[8:], "left": np.s_[:, :8]}[label]
    a[dark] //= 6
    return Image.fromarray(a)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """train/valid folders of 16px images of three classes: which part of the image is dark."""
    root, rng = tmp_path_factory.mktemp("imgs"), np.random.default_rng(0)
    for split, n in (("train", 16), ("valid", 6)):
        for label in ("top", "bottom", "left"):
            (root / split / label).mkdir(parents=True)
            for i in range(n):
                _image(label, rng).save(root / split / label / f"{i}.png")
    return root


def quiet(learn):
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_trains_from_scratch_with_n_out_and_loss_inferred(folder):
    set_seed(0)
    dls = ImageDataLoaders.from_folder(folder, bs=8)
    learn = quiet(vision_learner(dls, tiny, pretrained=False, metrics=accuracy))
    assert get_c(dls) == 3 and learn.model[1][-1][-1].out_features == 3
    assert isinstance(learn.loss_func, CrossEntropyLossFlat)
    assert isinstance(learn.model[1][0], AdaptiveConcatPool2d)
    assert not any(
        isinstance(f, ImageNormalize) for f in dls.train.after_batch.fs
    )  # not pretrained: no stats
    assert all(p.requires_grad for p in learn.model.parameters())  # nothing frozen
    before = learn.validate()[1]
    learn.fit_one_cycle(4, 1e-2)
    after = learn.validate()[1]
    assert after >= 0.9 and after > before
    assert cnn_learner is vision_learner


def test_pretrained_weights_from_a_file_freeze_the_body_but_not_batch_norm(folder, tmp_path):
    torch.manual_seed(1)
    source = tiny()
    file = tmp_path / "tiny.pth"
    torch.save(source.state_dict(), file)
    dls = ImageDataLoaders.from_folder(folder, bs=8)
    learn = quiet(vision_learner(dls, tiny, weights=file))
    body, head = learn.model[0], learn.model[1]
    assert torch.equal(body[0][0].weight, source[0][0].weight)
    norms = [f for f in dls.valid.after_batch.fs if isinstance(f, ImageNormalize)]
    assert len(norms) == 1 and torch.allclose(norms[0].mean.flatten(), torch.tensor([0.485, 0.456, 0.406]))
    bn_params = {id(p) for m in body.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    for p in body.parameters():
        assert p.requires_grad == (id(p) in bn_params)
    assert all(p.requires_grad for p in head.parameters())
    assert len(learn.opt.param_lists) == 3  # early body, late body, head
    conv_before = body[0][0].weight.detach().clone()
    bn_before = body[0][1].weight.detach().clone()
    learn.fit(1, 1e-2)
    assert torch.equal(body[0][0].weight, conv_before)  # frozen
    assert not torch.equal(body[0][1].weight, bn_before)  # batch norm still trains
    # a second learner on the same data does not stack a second ImageNormalize
    vision_learner(dls, tiny, weights=file)
    assert sum(isinstance(f, ImageNormalize) for f in dls.train.after_batch.fs) == 1


def test_missing_weights_say_where_to_put_the_file(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    dls = ImageDataLoaders.from_folder(folder, bs=8)
    expected = tmp_path / "torch_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    with pytest.raises(VisionError) as e:
        vision_learner(dls, torchvision.models.resnet18)
    assert str(expected) in str(e.value) and "download.pytorch.org" in str(e.value)
    assert "pretrained=False" in str(e.value)
    with pytest.raises(VisionError, match="no pretrained weights are known for xresnet18"):
        vision_learner(dls, tiny)
    with pytest.raises(VisionError, match="does not exist"):
        vision_learner(dls, tiny, weights=tmp_path / "nope.pth")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(VisionError, match="does not fit xresnet18: missing keys"):
        vision_learner(dls, tiny, weights=tmp_path / "other.pth")


def test_torchvision_weights_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(2)
    source = torchvision.models.squeezenet1_1(weights=None)
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(source.state_dict(), cache / "squeezenet1_1-b8a52dc0.pth")
    body = create_body(torchvision.models.squeezenet1_1)
    assert torch.equal(body[0].weight, source.features[0].weight)
    assert len(body) == len(source.features)  # cut before the classifier


def test_single_channel_input_keeps_what_pretrained_weights_compute(tmp_path):
    torch.manual_seed(3)
    file = tmp_path / "tiny.pth"
    torch.save(tiny().state_dict(), file)
    rgb, grey = create_body(tiny, weights=file).eval(), create_body(tiny, n_in=1, weights=file).eval()
    assert grey[0][0].in_channels == 1
    x = torch.rand(2, 1, 16, 16)
    assert torch.allclose(grey(x), rgb(x.repeat(1, 3, 1, 1)), atol=1e-5)
    assert create_body(tiny, n_in=4, pretrained=False)[0][0].weight.shape[1] == 4


def test_create_head_layout():
    head = create_head(32, 5, lin_ftrs=[16, 8], ps=0.4, bn_final=True, y_range=(-1, 1))
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 16), (16, 8), (8, 5)]
    drops = [m.p for m in head.modules() if isinstance(m, nn.Dropout)]
    assert drops == pytest.approx([0.2, 0.2, 0.4])
    assert isinstance(head[-1], SigmoidRange) and isinstance(head[-2], nn.BatchNorm1d)
    out = head.eval()(torch.randn(3, 32, 4, 4))
    assert out.shape == (3, 5) and out.abs().max() <= 1
    plain = create_head(32, 2, pool=True, concat_pool=False, ps=0.0, lin_first=True)
    assert isinstance(plain[0], nn.AdaptiveAvgPool2d) and plain(torch.randn(2, 32, 3, 3)).shape == (2, 2)
    with pytest.raises(VisionError, match="2 dropout values for 3 linear layers"):
        create_head(32, 5, lin_ftrs=[16, 8], ps=[0.1, 0.2])


def test_splitter_groups_cover_every_parameter_once():
    model = nn.Sequential(create_body(tiny, pretrained=False), create_head(64, 3))
    groups = BodyHeadSplitter(-2)(model)
    ids = [id(p) for g in groups for p in g]
    assert len(groups) == 3 and len(ids) == len(set(ids)) == len(list(model.parameters()))
    assert {id(p) for p in groups[-1]} == {id(p) for p in model[1].parameters()}


def test_points_regression_outputs_the_targets_shape(folder):
    files = sorted((folder / "train").rglob("*.png"))[:16]

    def get_points(f):
        return [[4.0, 4.0], [12.0, 10.0]]

    dblock = DataBlock(
        blocks=(ImageBlock, PointBlock), get_y=get_points, splitter=RandomSplitter(0.25, seed=0)
    )
    dls = dblock.dataloaders(files, bs=4)
    learn = quiet(vision_learner(dls, tiny, pretrained=False, y_range=(-1, 1)))
    assert get_c(dls) == 4 and isinstance(learn.loss_func, MSELossFlat)
    xb, yb = dls.one_batch()
    assert learn.model.eval()(xb).shape == yb.shape == (4, 2, 2)


def test_vision_learner_signature_shows_the_learners_parameters():
    import inspect

    from layered.vision.dataloaders import ImageDataLoaders

    params = inspect.signature(vision_learner).parameters
    forwarded = {"loss_func", "opt_func", "lr", "cbs", "metrics", "path", "model_dir", "wd", "moms"}
    assert forwarded <= set(params) and "kwargs" not in params
    assert params["lr"].default == 1e-3 and params["loss_func"].kind is inspect.Parameter.KEYWORD_ONLY
    assert {"valid_pct", "item_tfms", "bs"} <= set(
        inspect.signature(ImageDataLoaders.from_name_re).parameters
    )
