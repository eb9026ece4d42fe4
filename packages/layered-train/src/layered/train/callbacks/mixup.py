"""MixUp and CutMix: train on blends of pairs of items, so the model learns smoother decision boundaries.

Each training batch is paired with a permutation of itself and blended with a weight `lam`
drawn from Beta(alpha, alpha) (one per batch, as in the papers). MixUp averages the inputs;
CutMix pastes a box of the partner image whose area is `1 - lam` of the image. Integer class
targets cannot be averaged, so the loss is blended instead, through a wrapper around
`learn.loss_func` that is put back after fit: `lam * loss(pred, y) + (1 - lam) * loss(pred, y[perm])`.
Floating-point targets (one-hot, multi-label, soft labels) are blended directly. Validation is
never mixed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from layered.core.delegation import GetAttr
from layered.train.callback import Callback
from layered.train.errors import TrainError

__all__ = ["CutMix", "MixLoss", "MixUp"]


class MixLoss(GetAttr):
    """`loss_func`, or the `lam`-blend of it over two sets of targets while `mixer.active` is set.

    Any other public attribute (activation, decodes, reduction, ...) is the wrapped loss's own.
    """

    _default = "loss_func"  # where GetAttr forwards the attributes MixLoss lacks

    def __init__(self, loss_func: Callable, mixer: _MixHandler):
        self.loss_func, self.mixer = loss_func, mixer

    def __call__(self, pred: torch.Tensor, *yb: torch.Tensor, **kwargs) -> torch.Tensor:
        """The wrapped loss, blended over the original and permuted targets during a mixed batch."""
        m = self.mixer
        if not m.active or m.yb_perm is None:
            return self.loss_func(pred, *yb, **kwargs)
        first = self.loss_func(pred, *yb, **kwargs)
        second = self.loss_func(pred, *m.yb_perm, **kwargs)
        return m.lam * first + (1 - m.lam) * second

    def __repr__(self) -> str:
        return f"MixLoss({self.loss_func!r})"


class _MixHandler(Callback):
    """What MixUp and CutMix share: the Beta draw, the permutation, target blending and the loss wrapper.

    A subclass defines `_mix_inputs(xb)`, which blends the model inputs with `self.perm` and `self.lam`.
    """

    # before ChannelsLast (25), which converts the inputs this callback produces
    order = 20
    run_valid = False

    def __init__(self, alpha: float):
        if alpha <= 0:
            raise TrainError(f"{type(self).__name__}: alpha must be positive, got {alpha}")
        self.alpha = alpha
        self.active, self.lam, self.perm, self.yb_perm = False, 1.0, None, None

    def before_fit(self):
        self.active = False
        loss = self.learn.loss_func
        while isinstance(loss, MixLoss):  # left wrapped by a fit that died with an exception
            loss = loss.loss_func
        self._orig_loss = loss
        self.learn.loss_func = MixLoss(self._orig_loss, self)

    def after_fit(self):
        if isinstance(self.learn.loss_func, MixLoss) and self.learn.loss_func.mixer is self:
            self.learn.loss_func = self._orig_loss

    def _draw(self) -> float:
        lam = float(torch.distributions.Beta(self.alpha, self.alpha).sample())
        # the item's own target then weighs most, which keeps training metrics on `yb` meaningful
        return max(lam, 1 - lam)

    def before_batch(self):
        xb, yb = self.learn.xb, self.learn.yb
        for i, x in enumerate(xb):
            if not (isinstance(x, torch.Tensor) and x.is_floating_point()):
                raise TrainError(
                    f"{type(self).__name__}: model input {i} is a {getattr(x, 'dtype', type(x).__name__)}; "
                    "only floating-point inputs can be mixed"
                )
        self.perm = torch.randperm(xb[0].shape[0], device=xb[0].device)
        self.lam = self._draw()
        self.learn.xb = self._mix_inputs(xb)
        if all(y.is_floating_point() for y in yb):
            self.learn.yb = tuple(torch.lerp(y[self.perm], y, self.lam) for y in yb)
            self.yb_perm = None
        else:
            self.yb_perm = tuple(y[self.perm] for y in yb)
        self.active = True

    def after_batch(self):
        self.active = False


class MixUp(_MixHandler):
    """MixUp (Zhang et al., 2018): inputs `lam * x + (1 - lam) * x[perm]`, `lam ~ Beta(alpha, alpha)`."""

    def __init__(self, alpha: float = 0.4):
        super().__init__(alpha)

    def _mix_inputs(self, xb: tuple) -> tuple:
        return tuple(torch.lerp(x[self.perm], x, self.lam) for x in xb)


class CutMix(_MixHandler):
    """CutMix (Yun et al., 2019): paste a random box of `x[perm]` covering `1 - lam` of each image.

    Works on inputs whose last two dimensions are height and width. `lam` is then corrected to
    the box's actual area (the box is clipped at the image border).
    """

    def __init__(self, alpha: float = 1.0):
        super().__init__(alpha)

    def _mix_inputs(self, xb: tuple) -> tuple:
        x = xb[0]
        if x.ndim < 3:
            raise TrainError(
                f"CutMix: inputs need (..., height, width) dimensions, got shape {tuple(x.shape)}"
            )
        h, w = x.shape[-2:]
        cut = math.sqrt(1 - self.lam)
        ch, cw = int(h * cut), int(w * cut)
        cy, cx = int(torch.randint(0, h, ())), int(torch.randint(0, w, ()))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
        self.box = (y0, y1, x0, x1)
        self.lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)
        out = []
        for inp in xb:
            inp = inp.clone()
            inp[..., y0:y1, x0:x1] = inp[self.perm][..., y0:y1, x0:x1]
            out.append(inp)
        return tuple(out)
