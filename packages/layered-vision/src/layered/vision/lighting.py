"""Lighting batch augmentation, composed in logit space into one operation per batch.

```python
tfm = Brightness(max_lighting=0.2).compose(Contrast(max_lighting=0.2))
x = tfm(x)      # x in [0, 1]: sigmoid(A @ logit(x) + b) with one A (C×C) and b (C) per sample
```
Each transform is a per-sample affine map of the pixel's channel vector in logit space:
brightness adds to the logits, contrast scales them (about mid-grey), saturation blends them
with their luma and hue rotates them about the grey axis. Maps applied in turn compose into one
(`A2 (A1 L + b1) + b2`), so any number of lighting transforms costs one logit, one small matrix
product and one sigmoid. Working on logits keeps the result in (0, 1) with no clipping, and an
image whose samples a transform skips (probability 1-p) is returned exactly unchanged. Images
must be floats in [0, 1], that is, after `IntToFloatTensor` and before `Normalize`.
Training batches only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from layered.core.registry import register_serializable
from layered.core.tensor_types import retain_type
from layered.core.transform import Transform
from layered.vision.errors import VisionError
from layered.vision.types import TensorImage

__all__ = ["Brightness", "Contrast", "Hue", "LightingTfm", "Saturation"]

# Luma weights of RGB (ITU-R BT.601): the grey a saturation change blends towards.
_LUMA = (0.299, 0.587, 0.114)
# Inputs are clamped to [eps, 1 - eps] before the logit, so black and white stay finite.
_EPS = 1e-6


def _identity(n: int, c: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.eye(c).expand(n, c, c).clone(), torch.zeros(n, c)


def _log_uniform(n: int, low: float, high: float) -> torch.Tensor:
    return (torch.rand(n) * (math.log(high) - math.log(low)) + math.log(low)).exp()


def _check_lighting(name: str, max_lighting: float) -> None:
    if not 0 <= max_lighting < 1:
        raise VisionError(f"{name}: max_lighting={max_lighting!r}; expected a value in [0, 1)")


@register_serializable
class LightingTfm(Transform):
    """Apply the composed logit-space maps of `parts` to a batch of images, in one operation."""

    order = 40
    split_idx = 0

    def __init__(self, parts: Sequence[_LightingPart] = ()):
        super().__init__()
        self.parts = list(parts)

    def draw(self, n: int, c: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-sample `A` (`n×c×c`), `b` (`n×c`) of the composed map, and which samples it changes."""
        a, b = _identity(n, c)
        changed = torch.zeros(n, dtype=torch.bool)
        for part in self.parts:
            pa, pb, on = part.random(n, c)
            a, b = pa @ a, (pa @ b[..., None])[..., 0] + pb
            changed |= on
        return a, b, changed

    def compose(self, other: LightingTfm) -> LightingTfm:
        """One transform applying `self` then `other` as a single operation."""
        return LightingTfm([*self.parts, *other.parts])

    def encodes(self, x: TensorImage):
        n, c = x.shape[0], x.shape[1]
        return self.apply(x, *self.draw(n, c))

    def apply(
        self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, changed: torch.Tensor | None = None
    ) -> Any:
        """`sigmoid(a @ logit(x) + b)` per sample of an `N×C×H×W` batch `x` in [0, 1]; samples not `changed` stay exact."""
        plain = x.as_subclass(torch.Tensor)
        if plain.ndim != 4 or not plain.is_floating_point():
            raise VisionError(
                f"{self.name}: got a {plain.dtype} batch of shape {tuple(plain.shape)}; expected N×C×H×W floats "
                "in [0, 1] (after IntToFloatTensor, before Normalize)"
            )
        if changed is not None and not bool(changed.any()):
            return x
        diagonal = bool((a == torch.diag_embed(a.diagonal(dim1=1, dim2=2))).all())
        a, b = a.to(plain.device, plain.dtype), b.to(plain.device, plain.dtype)
        logits = torch.logit(plain, _EPS)
        if diagonal:  # brightness and contrast alone: one in-place multiply-add instead of a matrix product
            torch.addcmul(b[..., None, None], logits, a.diagonal(dim1=1, dim2=2)[..., None, None], out=logits)
        else:
            logits = torch.baddbmm(b[..., None], a, logits.flatten(2)).view(plain.shape)
        out = logits.sigmoid_()
        if changed is not None and not bool(changed.all()):
            keep = (~changed).nonzero()[:, 0].to(plain.device)
            out[keep] = plain[keep]  # exactly unchanged, not sigmoid(logit(x))
        return retain_type(out, x, copy_meta=True)

    def __repr__(self) -> str:
        return f"{self.name}([{', '.join(type(p).__name__ for p in self.parts)}])"


@register_serializable
class _LightingPart(LightingTfm):
    """A lighting transform that is one part of a composition (itself); subclasses define `sample` and `logit_map`."""

    def __init__(self, p: float):
        if not 0 <= p <= 1:
            raise VisionError(f"{type(self).__name__}: p={p!r}; expected a probability in [0, 1]")
        super().__init__()
        self.parts, self.p = [self], p

    def random(self, n: int, c: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This part's random maps for `n` samples of `c` channels (identity where skipped) and where applied."""
        a, b = self.logit_map(self.sample(n), c)
        on = torch.rand(n) < self.p
        ia, ib = _identity(n, c)
        return torch.where(on[:, None, None], a, ia), torch.where(on[:, None], b, ib), on


@register_serializable
class Brightness(_LightingPart):
    """Brighten or darken by up to `max_lighting` (0.5 ± max_lighting/2 as mid-grey's new value), with probability `p`."""

    def __init__(self, max_lighting: float = 0.2, p: float = 0.75):
        _check_lighting("Brightness", max_lighting)
        super().__init__(p)
        self.max_lighting = max_lighting

    def sample(self, n: int) -> torch.Tensor:
        """The value mid-grey takes, per sample."""
        return (torch.rand(n) - 0.5) * self.max_lighting + 0.5

    def logit_map(self, params: torch.Tensor, c: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Add `logit(params)` to every channel's logit."""
        a, _ = _identity(len(params), c)
        return a, torch.logit(params.float())[:, None].expand(-1, c).clone()


@register_serializable
class Contrast(_LightingPart):
    """Scale contrast by a factor in `[1 - max_lighting, 1 / (1 - max_lighting)]` (log-uniform), with probability `p`."""

    def __init__(self, max_lighting: float = 0.2, p: float = 0.75):
        _check_lighting("Contrast", max_lighting)
        super().__init__(p)
        self.max_lighting = max_lighting

    def sample(self, n: int) -> torch.Tensor:
        """The contrast factor, per sample."""
        return _log_uniform(n, 1 - self.max_lighting, 1 / (1 - self.max_lighting))

    def logit_map(self, params: torch.Tensor, c: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Multiply the logits by the factor."""
        a, b = _identity(len(params), c)
        return a * params.float()[:, None, None], b


@register_serializable
class Saturation(_LightingPart):
    """Scale saturation by a factor in `[1 - max_lighting, 1 / (1 - max_lighting)]` (log-uniform), with probability `p`.

    Only 3-channel images change: a one-channel image has no colour to saturate.
    """

    def __init__(self, max_lighting: float = 0.2, p: float = 0.75):
        _check_lighting("Saturation", max_lighting)
        super().__init__(p)
        self.max_lighting = max_lighting

    def sample(self, n: int) -> torch.Tensor:
        """The saturation factor, per sample."""
        return _log_uniform(n, 1 - self.max_lighting, 1 / (1 - self.max_lighting))

    def logit_map(self, params: torch.Tensor, c: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Blend the logits with their luma: `s * L + (1 - s) * luma(L)`."""
        a, b = _identity(len(params), c)
        if c != 3:
            return a, b
        s = params.float()[:, None, None]
        towards_grey = torch.ones(3, 1) * torch.tensor(_LUMA)[None]  # every channel gets the luma
        return s * a + (1 - s) * towards_grey, b


@register_serializable
class Hue(_LightingPart):
    """Turn hue by up to `max_hue` of a full turn either way, with probability `p` (3-channel images only)."""

    def __init__(self, max_hue: float = 0.1, p: float = 0.75):
        if not 0 <= max_hue <= 0.5:
            raise VisionError(f"Hue: max_hue={max_hue!r}; expected a fraction of a turn in [0, 0.5]")
        super().__init__(p)
        self.max_hue = max_hue

    def sample(self, n: int) -> torch.Tensor:
        """The turn, in fractions of a full turn, per sample."""
        return (torch.rand(n) * 2 - 1) * self.max_hue

    def logit_map(self, params: torch.Tensor, c: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate the logit vector about the grey axis (1, 1, 1) (Rodrigues' formula)."""
        a, b = _identity(len(params), c)
        if c != 3:
            return a, b
        phi = params.float()[:, None, None] * 2 * math.pi
        k = torch.full((3,), 1 / math.sqrt(3))
        cross = torch.tensor([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
        return phi.cos() * a + phi.sin() * cross + (1 - phi.cos()) * torch.outer(k, k), b
