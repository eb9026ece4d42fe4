"""Devices: choose the best one, and move, detach, gather or convert nested batches of tensors."""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from layered.core.errors import LayeredError
from layered.core.nested import apply

__all__ = ["default_device", "set_default_device", "to_cpu", "to_detach", "to_device", "to_float"]

DeviceChoice = bool | str | torch.device | None

# What `default_device()` falls back to; only `set_default_device` changes it.
_choice: dict[str, DeviceChoice] = {"use": None}


def _check_choice(use: Any, name: str) -> None:
    if not isinstance(use, (bool, str, torch.device, type(None))):
        raise LayeredError(
            f"{name}: expected None, a bool, a device name or a torch.device, found {type(use).__name__}"
        )


def set_default_device(use: DeviceChoice) -> None:
    """Choose what `default_device()` returns: None/True (best available), False (CPU) or a device."""
    _check_choice(use, "set_default_device")
    _choice["use"] = use


def default_device(use: DeviceChoice = None) -> torch.device:
    """The device to work on: CUDA if available, else MPS if available, else the CPU.

    `use=False` forces the CPU, a device or device name is returned as a `torch.device`, and
    None follows `set_default_device` (the best available device unless that was changed).
    """
    _check_choice(use, "default_device")
    use = _choice["use"] if use is None else use
    if isinstance(use, (str, torch.device)):
        return torch.device(use)
    if use is False:
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def to_device(b: Any, device: str | torch.device | None = None, non_blocking: bool = False) -> Any:
    """Move every tensor of a nested batch to `device` (default: `default_device()`), keeping types."""
    if not isinstance(device, torch.device):
        device = default_device() if device is None else torch.device(device)
    return apply(_move, b, device, non_blocking)


def _move(t: torch.Tensor, device: torch.device, non_blocking: bool) -> torch.Tensor:
    return t if t.device == device else t.to(device, non_blocking=non_blocking)


def to_cpu(b: Any) -> Any:
    """Move every tensor of a nested batch to the CPU."""
    return apply(lambda t: t.cpu(), b)


def _gather(t: torch.Tensor) -> torch.Tensor:
    """Concatenate `t` from every process along its first dimension, in rank order.

    Processes may hold different numbers of rows (an uneven last shard), so each pads to the
    longest before `all_gather`, which needs equal shapes, and the padding is cut off after.
    """
    if t.ndim == 0:
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, t.contiguous())
        return torch.stack(parts)
    n = torch.tensor([t.shape[0]], device=t.device)
    sizes = [torch.empty_like(n) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, n)
    longest = max(int(s) for s in sizes)
    padded = t.new_zeros((longest, *t.shape[1:]))
    padded[: t.shape[0]] = t
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded)
    return torch.cat([p[: int(s)] for p, s in zip(parts, sizes)])


def to_detach(b: Any, cpu: bool = True, gather: bool = False) -> Any:
    """Detach every tensor of a nested batch from the autograd graph.

    With `gather`, and when a `torch.distributed` process group is running, each tensor becomes
    the concatenation of that tensor from every process. With `cpu`, results end on the CPU.
    """
    gather = gather and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1

    def detach(t: torch.Tensor) -> torch.Tensor:
        t = t.detach()
        if gather:
            t = _gather(t)
        return t.cpu() if cpu else t

    return apply(detach, b)


def to_float(b: Any) -> Any:
    """Turn floating-point tensors into float32; integer and boolean tensors are left alone."""
    return apply(lambda t: t.float() if t.is_floating_point() else t, b)
