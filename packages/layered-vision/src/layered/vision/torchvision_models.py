"""torchvision's model constructors by name (`resnet34`, `efficientnet_b0`, ...), imported when first called.

`vision_learner(dls, resnet34)` reads as in the fastai listings, while `import layered.vision`
stays free of `torchvision.models` (seconds to import): each name here is a `TorchvisionModel`
that imports its torchvision function on first use. `real_arch` gives the function itself.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import torch.nn as nn

# the architectures `model_meta` knows (cut, split, statistics of the pretrained weights)
_NAMES = [
    "alexnet",
    "convnext_base",
    "convnext_large",
    "convnext_small",
    "convnext_tiny",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "efficientnet_v2_l",
    "efficientnet_v2_m",
    "efficientnet_v2_s",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "resnext50_32x4d",
    "squeezenet1_0",
    "squeezenet1_1",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "wide_resnet101_2",
    "wide_resnet50_2",
]

__all__ = ["TorchvisionModel", "real_arch", *_NAMES]


class TorchvisionModel:
    """`torchvision.models.<name>`, imported on the first call: `resnet34(weights=None)` builds the model."""

    def __init__(self, name: str):
        self.__name__ = self.__qualname__ = name
        self.__doc__ = f"torchvision.models.{name} (imported when first called): builds the model."

    @functools.cached_property
    def function(self) -> Callable[..., nn.Module]:
        """The torchvision function itself (importing torchvision.models)."""
        return getattr(importlib.import_module("torchvision.models"), self.__name__)

    def __call__(self, *args: Any, **kwargs: Any) -> nn.Module:
        return self.function(*args, **kwargs)

    def __reduce__(self) -> tuple:
        return (TorchvisionModel, (self.__name__,))

    def __repr__(self) -> str:
        return f"<torchvision model {self.__name__} (lazy)>"


def real_arch(arch: Any) -> Any:
    """`arch` with a `TorchvisionModel` (alone or inside a `functools.partial`) replaced by its torchvision function."""
    if isinstance(arch, TorchvisionModel):
        return arch.function
    if isinstance(arch, functools.partial) and isinstance(arch.func, TorchvisionModel):
        return functools.partial(arch.func.function, *arch.args, **arch.keywords)
    return arch


globals().update({name: TorchvisionModel(name) for name in _NAMES})
