"""Channels-last memory format: convolutions on GPUs with tensor cores run faster in NHWC layout."""

from __future__ import annotations

import torch

from layered.train.callback import Callback

__all__ = ["ChannelsLast"]


class ChannelsLast(Callback):
    """Put the model and every 4-D input in `torch.channels_last` memory format.

    Only the layout in memory changes: shapes, values and indexing stay those of NCHW tensors.
    Best combined with MixedPrecision on a GPU.
    """

    # after MixUp/CutMix (20), whose blended inputs are new tensors in the default layout
    order = 25

    def before_fit(self):
        self.learn.model.to(memory_format=torch.channels_last)

    def before_batch(self):
        self.learn.xb = tuple(
            x.contiguous(memory_format=torch.channels_last)
            if isinstance(x, torch.Tensor) and x.ndim == 4
            else x
            for x in self.learn.xb
        )
