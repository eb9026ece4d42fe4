"""BnFreeze: batch-norm layers in frozen parameter groups keep their running statistics during training."""

from __future__ import annotations

from typing import Any

from torch import nn

from layered.train.callback import Callback

__all__ = ["BnFreeze", "frozen_bn_layers"]

_BN = nn.modules.batchnorm._BatchNorm


def frozen_bn_layers(model: nn.Module, opt: Any = None) -> list[nn.Module]:
    """The batch-norm layers of `model` that belong to frozen layers.

    A layer is frozen when its own parameters are (`train_bn=False`), or when it sits in a
    parameter group of `opt` whose other parameters are all frozen (`learn.freeze()` keeps norm
    parameters trainable with `train_bn=True`, but the layers around them are frozen). A layer
    without parameters (`affine=False`) belongs to no group, so it is never counted frozen.
    """
    bns = [m for m in model.modules() if isinstance(m, _BN)]
    bn_of = {id(p): m for m in bns for p in m.parameters(recurse=False)}
    frozen = {
        id(m): m for m in bns if list(m.parameters()) and not any(p.requires_grad for p in m.parameters())
    }
    for group in getattr(opt, "param_lists", []):
        others = [p for p in group if id(p) not in bn_of]
        if others and not any(p.requires_grad for p in others):
            frozen.update({id(bn_of[id(p)]): bn_of[id(p)] for p in group if id(p) in bn_of})
    return list(frozen.values())


class BnFreeze(Callback):
    """Put the batch-norm layers of frozen layers in eval mode while training, so their running mean and variance stay put.

    Used when fine-tuning a pretrained body on small batches: the head trains, and the body's
    statistics keep describing the data it was pretrained on. Their affine weights still train
    if `train_bn` keeps them trainable.
    """

    order = -5  # after TrainEvalCallback (-10), which puts the whole model in train mode

    def before_train(self):
        for m in frozen_bn_layers(self.learn.model, self.learn.opt):
            m.eval()
