"""timm bodies in vision_learner: any timm name, weights from a file or timm's cache, the split and freezing, export."""

import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from torch import nn

from layered.train.learner import load_learner
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.errors import VisionError
from layered.vision.learner import vision_learner
from layered.vision.normalize import ImageNormalize
from layered.vision.timm_body import TimmBody, timm_state_dict

timm = pytest.importorskip("timm")


@pytest.fixture(scope="module")
def dls_factory(tmp_path_factory):
    """Loaders over 16 tiny images of two classes (bright top or bright bottom), built afresh on each call."""
    root, rng = tmp_path_factory.mktemp("timm_imgs"), np.random.default_rng(0)
    for n in range(16):
        a = rng.integers(0, 40, (32, 32, 3)).astype(np.uint8)
        a[:16] += 180 if n % 2 == 0 else 0
        a[16:] += 180 if n % 2 == 1 else 0
        Image.fromarray(a).save(root / f"{'top' if n % 2 == 0 else 'bottom'}_{n}.png")
    fnames = sorted(root.glob("*.png"))
    return lambda: ImageDataLoaders.from_name_re(root, fnames, r"^([a-z]+)_\d+", valid_pct=0.25, seed=0, bs=4)


def quiet(learn):
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def saved_source(name, file):
    """A randomly initialised timm model with its classifier, its state_dict saved to `file`."""
    torch.manual_seed(0)
    source = timm.create_model(name, pretrained=False)
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    if file.suffix == ".safetensors":
        save_file(state, file)
    else:
        torch.save(state, file)
    return source


def test_timm_name_with_weights_file_freezes_the_body_but_not_its_norms(dls_factory, tmp_path):
    file = tmp_path / "test_efficientnet.safetensors"
    source = saved_source("test_efficientnet", file)
    dls = dls_factory()
    learn = quiet(vision_learner(dls, "test_efficientnet", weights=file))
    body = learn.model[0]
    assert isinstance(body, TimmBody)
    for k, v in body.model.state_dict().items():  # every body tensor from the file; the classifier left out
        assert torch.equal(v, source.state_dict()[k]), k
    norms = [f for f in dls.train.after_batch.fs if isinstance(f, ImageNormalize)]
    cfg = timm.models.get_pretrained_cfg("test_efficientnet")
    assert torch.allclose(norms[0].mean.flatten(), torch.tensor(cfg.mean))
    assert len(learn.opt.param_lists) == 3  # early body, late body, head
    group_ids = [{id(p) for p in g} for g in learn.opt.param_lists]
    assert set().union(*group_ids) == {id(p) for p in learn.model.parameters()}
    assert sum(map(len, group_ids)) == len(list(learn.model.parameters()))
    norm_ids = {id(p) for m in body.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}
    assert norm_ids  # timm's BatchNormAct2d is a BatchNorm2d
    for p in body.parameters():
        assert p.requires_grad == (id(p) in norm_ids)
    learn.freeze_to(-2)
    assert all(p.requires_grad for p in learn.opt.param_lists[1])
    assert not all(p.requires_grad for p in learn.opt.param_lists[0])
    conv = body.model.conv_stem.weight.detach().clone()
    bn = body.model.bn1.weight.detach().clone()
    learn.freeze()
    learn.fit(1, 1e-2)
    assert torch.equal(body.model.conv_stem.weight, conv)
    assert not torch.equal(body.model.bn1.weight, bn)


def test_layer_norm_stays_trainable_and_one_channel_input_adapts(dls_factory, tmp_path):
    file = tmp_path / "test_convnext.pth"
    source = saved_source("test_convnext", file)
    learn = vision_learner(dls_factory(), "test_convnext", weights=file, n_in=1)
    body = learn.model[0]
    # one channel computes what three equal channels computed: the kernels summed over the inputs
    assert torch.allclose(body.model.stem[0].weight, source.stem[0].weight.sum(1, keepdim=True), atol=1e-6)
    norm_ids = {id(p) for m in body.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()}
    assert norm_ids and all(p.requires_grad == (id(p) in norm_ids) for p in body.parameters())
    assert learn.model.eval()(torch.rand(2, 1, 32, 32)).shape == (2, 2)


def test_trains_from_scratch_exports_and_loads(dls_factory, tmp_path):
    learn = quiet(vision_learner(dls_factory(), "test_resnet", pretrained=False, path=tmp_path))
    assert all(p.requires_grad for p in learn.model.parameters())
    learn.fit(1, 1e-3)
    file = learn.export("timm.safetensors")
    loaded = load_learner(file)
    assert isinstance(loaded.model[0], TimmBody) and loaded.model[0].name == "test_resnet"
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(loaded.model.eval()(x), learn.model.eval()(x))
    label, _, probs = loaded.predict(sorted(tmp_path.parent.glob("timm_imgs*/*.png"))[0])
    assert label in ("top", "bottom") and probs.shape == (2,)


def test_weights_from_timms_cache_and_a_clear_error_when_absent(dls_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    cfg = timm.models.get_pretrained_cfg("test_resnet")
    with pytest.raises(VisionError) as e:
        vision_learner(dls_factory(), "test_resnet")
    assert cfg.hf_hub_id in str(e.value) and str(tmp_path / "hub") in str(e.value)
    assert "pretrained=False" in str(e.value)
    # the hub cache's layout: models--org--name/refs/main names the snapshot holding the file
    repo = tmp_path / "hub" / f"models--{cfg.hf_hub_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abc")
    (repo / "snapshots" / "0123abc").mkdir(parents=True)
    source = saved_source("test_resnet", repo / "snapshots" / "0123abc" / "model.safetensors")
    learn = vision_learner(dls_factory(), "test_resnet")
    assert torch.equal(learn.model[0].model.conv1[0].weight, source.conv1[0].weight)


def test_bad_names_files_and_a_missing_timm_are_named(dls_factory, tmp_path, monkeypatch):
    with pytest.raises(VisionError, match="timm has no architecture named 'no_such_net'"):
        vision_learner(dls_factory(), "no_such_net", pretrained=False)
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(VisionError, match=r"other\.pth does not fit timm's test_resnet: missing keys"):
        vision_learner(dls_factory(), "test_resnet", weights=tmp_path / "other.pth")
    with pytest.raises(VisionError, match=r"nope\.pth does not exist"):
        vision_learner(dls_factory(), "test_resnet", weights=tmp_path / "nope.pth")
    monkeypatch.setitem(sys.modules, "timm", None)  # as if timm were not installed
    with pytest.raises(VisionError, match=r"pip install 'layered-vision\[timm\]'"):
        vision_learner(dls_factory(), "convnext_tiny", pretrained=False)


class _Payload:
    """Unpickling this object would create `marker`: a weights file must never get that far."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_weights_file_holding_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    file = tmp_path / "crafted.pth"
    torch.save({"conv.weight": _Payload(marker)}, file)
    with pytest.raises(VisionError, match=r"could not read weights file .*crafted\.pth"):
        timm_state_dict(file)
    assert not marker.exists()
