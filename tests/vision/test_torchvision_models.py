"""Tests of torchvision_models."""

from pathlib import Path


def test_torchvision_constructors_are_lazy_stand_ins_named_like_torchvisions():
    from layered.vision.all import efficientnet_b0, resnet34
    from layered.vision.learner import arch_meta
    from layered.vision.torchvision_models import TorchvisionModel, real_arch

    assert isinstance(resnet34, TorchvisionModel) and resnet34.__name__ == "resnet34"
    assert arch_meta(resnet34)["cut"] == -2 and arch_meta(efficientnet_b0)["split"] is None
    import torchvision.models

    assert real_arch(resnet34) is torchvision.models.resnet34
    assert real_arch(len) is len


def test_constructors_by_name_load_from_a_file_or_the_cache_and_name_the_missing_file(tmp_path, monkeypatch):
    import pytest
    import torch
    import torchvision

    from layered.vision.all import VisionError, create_body, resnet34, squeezenet1_1

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))  # offline, nothing cached
    expected = Path(torchvision.models.ResNet34_Weights.DEFAULT.url).name
    with pytest.raises(VisionError) as e:
        create_body(resnet34)  # what vision_learner(dls, resnet34) builds its body with
    assert str(tmp_path / "empty" / "hub" / "checkpoints" / expected) in str(e.value)
    torch.manual_seed(0)
    source = torchvision.models.squeezenet1_1(weights=None)
    file = tmp_path / "squeezenet.pth"
    torch.save(source.state_dict(), file)
    body = create_body(squeezenet1_1, weights=file)  # a given file
    assert torch.equal(body[0].weight, source.features[0].weight)
    cache = tmp_path / "home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    file.rename(cache / Path(torchvision.models.SqueezeNet1_1_Weights.DEFAULT.url).name)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    body = create_body(squeezenet1_1)  # torch's cache
    assert torch.equal(body[3].squeeze.weight, source.features[3].squeeze.weight)
