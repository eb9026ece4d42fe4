"""Tests of torchvision_models."""


def test_torchvision_constructors_are_lazy_stand_ins_named_like_torchvisions():
    from layered.vision.all import efficientnet_b0, resnet34
    from layered.vision.learner import arch_meta
    from layered.vision.torchvision_models import TorchvisionModel, real_arch

    assert isinstance(resnet34, TorchvisionModel) and resnet34.__name__ == "resnet34"
    assert arch_meta(resnet34)["cut"] == -2 and arch_meta(efficientnet_b0)["split"] is None
    import torchvision.models

    assert real_arch(resnet34) is torchvision.models.resnet34
    assert real_arch(len) is len
