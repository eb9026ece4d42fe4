"""Model-state files: a model's weights plus plain training state, as an artifact that holds no code.

`learn.save`/`learn.load`, checkpoints and text encoders write the model's state dict under
`model.` + its names and any other state (optimizer, random generators, counters) as a JSON
configuration with its tensors beside the weights (`layered.train.saving.artifact`). Reading
checks the file and, before any weight is copied, that its weights fit the model: the error
names the file and the missing, unexpected or differently shaped entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from layered.core.config import ConfigReader, ConfigWriter
from layered.train.saving.artifact import ArtifactError, read_artifact, write_artifact

__all__ = ["load_weights", "read_state", "write_state"]


def write_state(file: str | Path, fmt: str, weights: dict[str, torch.Tensor], extra: Any = None) -> Path:
    """Write `weights` (a state dict) and `extra` (plain data and tensors) to `file` as a `fmt` artifact, atomically."""
    writer = ConfigWriter()
    config = writer.prune(writer.describe(extra, "state"))
    tensors = {**{f"model.{k}": v for k, v in weights.items()}, **writer.tensors}
    return write_artifact(file, fmt, config, tensors)


def read_state(file: str | Path, fmt: str) -> tuple[dict[str, torch.Tensor], Any]:
    """Read what `write_state` wrote: the weights (a state dict, on the CPU) and the extra state."""
    config, tensors, _ = read_artifact(file, fmt)
    extra = ConfigReader(tensors, str(file)).read(config, "state")
    weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    return weights, extra


def load_weights(
    model: nn.Module, weights: dict[str, torch.Tensor], file: str | Path, strict: bool = True
) -> None:
    """Copy `weights` into `model`, first checking they fit it; the error names `file` and what does not fit."""
    own = model.state_dict()
    shapes = [  # in the model's order, whatever order the file keeps
        f"{k}: file {tuple(weights[k].shape)}, model {tuple(v.shape)}"
        for k, v in own.items()
        if k in weights and weights[k].shape != v.shape
    ]
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    problems = [f"shapes differ ({'; '.join(shapes[:5])})"] if shapes else []
    if strict and missing:
        problems.append(f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if strict and unexpected:
        problems.append(f"unexpected {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
    if problems:
        raise ArtifactError(
            f"{file} holds weights of another model than {type(model).__name__}: {', '.join(problems)}"
            + ("; load(..., strict=False) skips missing and unexpected entries" if not shapes else "")
        )
    model.load_state_dict(weights, strict=strict)
