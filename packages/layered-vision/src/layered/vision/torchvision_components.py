"""The torchvision model blocks a vision learner may hold, registered for export by name (lazily).

`vision_learner(dls, resnet34)` keeps torchvision's own blocks in the body; exports describe
them as modules (children, weights, plain attributes) under these names, and loading rebuilds
them without calling any torchvision code but the classes themselves. Registering by name
keeps `import layered.vision` from importing torchvision's model zoo.
"""

from __future__ import annotations

from layered.core.registry import register_lazy

__all__ = ["TORCHVISION_BLOCKS"]

TORCHVISION_BLOCKS = (
    "torchvision.models.resnet.ResNet",
    "torchvision.models.resnet.BasicBlock",
    "torchvision.models.resnet.Bottleneck",
    "torchvision.models.efficientnet.EfficientNet",
    "torchvision.models.efficientnet.MBConv",
    "torchvision.models.efficientnet.FusedMBConv",
    "torchvision.models.mobilenetv2.MobileNetV2",
    "torchvision.models.mobilenetv2.InvertedResidual",
    "torchvision.models.mobilenetv3.MobileNetV3",
    "torchvision.models.mobilenetv3.InvertedResidual",
    "torchvision.models.convnext.ConvNeXt",
    "torchvision.models.convnext.CNBlock",
    "torchvision.models.convnext.LayerNorm2d",
    "torchvision.models.vision_transformer.VisionTransformer",
    "torchvision.models.vision_transformer.Encoder",
    "torchvision.models.vision_transformer.EncoderBlock",
    "torchvision.models.vision_transformer.MLPBlock",
    "torchvision.models.densenet.DenseNet",
    "torchvision.models.densenet._DenseLayer",
    "torchvision.models.densenet._DenseBlock",
    "torchvision.models.densenet._Transition",
    "torchvision.models.vgg.VGG",
    "torchvision.models.regnet.RegNet",
    "torchvision.models.regnet.SimpleStemIN",
    "torchvision.models.regnet.AnyStage",
    "torchvision.models.regnet.ResBottleneckBlock",
    "torchvision.models.regnet.BottleneckTransform",
    "torchvision.models.shufflenetv2.ShuffleNetV2",
    "torchvision.models.shufflenetv2.InvertedResidual",
    "torchvision.models.squeezenet.SqueezeNet",
    "torchvision.models.squeezenet.Fire",
    "torchvision.models.mnasnet.MNASNet",
    "torchvision.models.mnasnet._InvertedResidual",
    "torchvision.ops.misc.Conv2dNormActivation",
    "torchvision.ops.misc.SqueezeExcitation",
    "torchvision.ops.misc.MLP",
    "torchvision.ops.misc.Permute",
    "torchvision.ops.misc.FrozenBatchNorm2d",
    "torchvision.ops.stochastic_depth.StochasticDepth",
)

for _name in TORCHVISION_BLOCKS:
    register_lazy(_name, kind="module")
register_lazy("PIL.Image.Image", kind="reference")
