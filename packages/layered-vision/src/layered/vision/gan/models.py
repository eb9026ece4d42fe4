"""The two networks of a GAN and their pair: `basic_generator`, `basic_critic`, `patch_critic`, `GANModule`.

`basic_generator` and `basic_critic` are DCGAN's (Radford et al., 2015): the generator grows a
`4×4` map from the noise by strided transposed convolutions (batch norm, ReLU) to the image,
ending in `tanh` (so the data is normalized to [-1, 1]); the critic mirrors it with strided
convolutions and LeakyReLU(0.2) down to one score per image (higher: more real). Both start from
DCGAN's initialisation (`dcgan_init`): torch's default for the generator's last transposed
convolution is about seven times too wide (it counts that layer's one output channel as its
fan-in), which saturates the `tanh` so the generator starts stuck in noise. `patch_critic`
scores overlapping patches instead, the critic of image-to-image GANs. `GANModule` holds both
and runs one of them, as its `gen_mode` says.
"""

from __future__ import annotations

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.train.nn.conv import ConvLayer, NormType
from layered.train.nn.layers import Flatten
from layered.vision.errors import VisionError

__all__ = ["GANModule", "NoiseToMap", "basic_critic", "basic_generator", "dcgan_init", "patch_critic"]

_CRITIC_NORMS = (NormType.Batch, NormType.Instance, NormType.Spectral, None)


def _power_of_two(size: int, name: str, what: str) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 8 or size & (size - 1):
        raise VisionError(f"{name}: {what} must be a power of two of at least 8 (e.g. 32, 64), got {size!r}")
    return size


def _positive(value: int, name: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise VisionError(f"{name}: {what} must be a positive int, got {value!r}")
    return value


def dcgan_init(model: nn.Module, std: float = 0.02) -> nn.Module:
    """DCGAN's initialisation, in place: convolution weights from N(0, `std`), biases 0, batch-norm scales from N(1, `std`).

    A spectral-normalised convolution gets its underlying weight drawn; returns `model`.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.conv._ConvNd):  # every convolution, transposed or not
                weight = (
                    m.parametrizations.weight.original
                    if nn.utils.parametrize.is_parametrized(m, "weight")
                    else m.weight
                )
                weight.normal_(0.0, std)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
                m.weight.normal_(1.0, std)
                m.bias.zero_()
    return model


@register_serializable
class NoiseToMap(nn.Module):
    """Noise vectors `(bs, n)` as `1×1` feature maps `(bs, n, 1, 1)`, the generator's first input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Add two trailing unit dimensions."""
        return x.reshape(*x.shape, 1, 1)


def basic_generator(
    out_size: int, n_channels: int, noise_size: int = 100, n_features: int = 64, n_extra_layers: int = 0
) -> nn.Sequential:
    """A DCGAN generator: noise `(bs, noise_size)` to images `(bs, n_channels, out_size, out_size)` in [-1, 1].

    `out_size` is a power of two; the widest map has `n_features * out_size / 8` channels, halved
    at each doubling of the size; `n_extra_layers` adds size-preserving layers before the last.
    The weights start from `dcgan_init`.
    """
    _power_of_two(out_size, "basic_generator", "out_size")
    for value, what in ((n_channels, "n_channels"), (noise_size, "noise_size"), (n_features, "n_features")):
        _positive(value, "basic_generator", what)
    n_ftrs = n_features * out_size // 8
    layers = [NoiseToMap(), ConvLayer(noise_size, n_ftrs, ks=4, stride=1, padding=0, transpose=True)]
    size = 4
    while size < out_size // 2:
        layers.append(ConvLayer(n_ftrs, n_ftrs // 2, ks=4, stride=2, padding=1, transpose=True))
        n_ftrs, size = n_ftrs // 2, size * 2
    layers += [ConvLayer(n_ftrs, n_ftrs, ks=3, stride=1, padding=1) for _ in range(n_extra_layers)]
    layers += [nn.ConvTranspose2d(n_ftrs, n_channels, 4, stride=2, padding=1, bias=False), nn.Tanh()]
    return dcgan_init(nn.Sequential(*layers))


def _critic_conv(ni: int, nf: int, ks: int, stride: int, norm_type: NormType | None) -> nn.Sequential:
    """A convolution (`norm_type` normalising it), then LeakyReLU(0.2)."""
    conv = nn.Conv2d(ni, nf, ks, stride=stride, padding=(ks - 1) // 2, bias=norm_type is not NormType.Batch)
    layers: list[nn.Module] = [conv]
    if norm_type is NormType.Spectral:
        layers[0] = nn.utils.parametrizations.spectral_norm(conv)
    elif norm_type is NormType.Batch:
        layers.append(nn.BatchNorm2d(nf))
    elif norm_type is NormType.Instance:
        layers.append(nn.InstanceNorm2d(nf, affine=True))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def _check_norm(norm_type: NormType | None, name: str) -> None:
    if norm_type not in _CRITIC_NORMS:
        raise VisionError(f"{name}: norm_type must be one of {_CRITIC_NORMS}, got {norm_type!r}")


def basic_critic(
    in_size: int,
    n_channels: int,
    n_features: int = 64,
    n_extra_layers: int = 0,
    norm_type: NormType | None = NormType.Batch,
) -> nn.Sequential:
    """A DCGAN critic: images `(bs, n_channels, in_size, in_size)` to one score per image `(bs,)`.

    The first layer has `n_features` channels, doubled at each halving of the size down to `4×4`.
    `norm_type`: batch norm (DCGAN), instance or spectral norm, or None — use one of the last
    three with the WGAN gradient penalty, which assumes each image is scored on its own. The
    weights start from `dcgan_init`.
    """
    _power_of_two(in_size, "basic_critic", "in_size")
    _positive(n_channels, "basic_critic", "n_channels")
    _positive(n_features, "basic_critic", "n_features")
    _check_norm(norm_type, "basic_critic")
    layers = [_critic_conv(n_channels, n_features, 4, 2, None)]
    size, n_ftrs = in_size // 2, n_features
    layers += [_critic_conv(n_ftrs, n_ftrs, 3, 1, norm_type) for _ in range(n_extra_layers)]
    while size > 4:
        layers.append(_critic_conv(n_ftrs, n_ftrs * 2, 4, 2, norm_type))
        n_ftrs, size = n_ftrs * 2, size // 2
    layers += [nn.Conv2d(n_ftrs, 1, 4, padding=0), Flatten(full=True)]
    return dcgan_init(nn.Sequential(*layers))


def patch_critic(
    n_channels: int = 3,
    n_features: int = 64,
    n_blocks: int = 3,
    norm_type: NormType | None = NormType.Spectral,
) -> nn.Sequential:
    """An image-to-image critic: one score per overlapping patch, flattened to `(bs * n_patches,)`.

    `n_blocks` strided blocks halve the size each (the patch grows with them); spectral norm by
    default keeps the critic smooth, as image-to-image GANs need for stable training.
    """
    _positive(n_channels, "patch_critic", "n_channels")
    _positive(n_features, "patch_critic", "n_features")
    _positive(n_blocks, "patch_critic", "n_blocks")
    _check_norm(norm_type, "patch_critic")
    layers = [_critic_conv(n_channels, n_features, 4, 2, None)]
    n_ftrs = n_features
    for _ in range(n_blocks - 1):
        layers += [
            _critic_conv(n_ftrs, n_ftrs, 3, 1, norm_type),
            _critic_conv(n_ftrs, n_ftrs * 2, 4, 2, norm_type),
        ]
        n_ftrs *= 2
    layers += [nn.Conv2d(n_ftrs, 1, 3, padding=1), Flatten(full=True)]
    return nn.Sequential(*layers)


@register_serializable
class GANModule(nn.Module):
    """A generator and a critic; `forward` runs the generator when `gen_mode`, else the critic.

    `GANTrainer` switches the mode during training and leaves it in generator mode, so a fitted
    or loaded GAN learner predicts generated images.
    """

    def __init__(self, generator: nn.Module, critic: nn.Module, gen_mode: bool = False):
        super().__init__()
        for part, name in ((generator, "generator"), (critic, "critic")):
            if not isinstance(part, nn.Module):
                raise VisionError(f"GANModule: {name} is a {type(part).__name__}, expected an nn.Module")
        self.generator, self.critic, self.gen_mode = generator, critic, bool(gen_mode)

    def switch(self, gen_mode: bool | None = None) -> None:
        """Run the generator (`True`) or the critic (`False`); `None` flips the mode."""
        self.gen_mode = (not self.gen_mode) if gen_mode is None else bool(gen_mode)

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        """The generator's output for its inputs (noise or images), or the critic's scores for images.

        Generated images come back as plain tensors: they are not of their input's type (noise),
        and decoding gives them the type of the batch's targets.
        """
        if not self.gen_mode:
            return self.critic(*args)
        out = self.generator(*args)
        return out.as_subclass(torch.Tensor) if isinstance(out, torch.Tensor) else out
