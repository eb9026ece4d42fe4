"""The third-party components every saved configuration may name: Python's and torch's own, listed here.

- types named as values (a list of item types, a factory): Python's plain types, `pathlib.Path`,
  `numpy.ndarray`, `torch.Tensor`;
- `functools.partial` of a registered function, compiled regular expressions (pattern and flags);
- the layers, containers and losses `torch.nn` lists as public (`torch.nn.modules.__all__`),
  described as modules (children, tensors, plain attributes), under the names `torch.nn.<Class>`,
  and the weight-norm, spectral-norm and orthogonal parametrizations;
- the activation functions of `torch` and `torch.nn.functional` that models keep as values.

Importing `layered.core.config` registers them; nothing else in `torch` is ever looked up.
"""

from __future__ import annotations

import functools
import pathlib
import re
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations, parametrize

from layered.core.registry import register_adapter, register_serializable

__all__: list[str] = []  # registers components; exports nothing

_PLAIN_TYPES = (
    object,
    bool,
    int,
    float,
    str,
    bytes,
    list,
    tuple,
    dict,
    set,
    frozenset,
    type(None),
    pathlib.Path,
    np.ndarray,
    torch.Tensor,
)
_ACTIVATION_FUNCTIONS = (
    F.relu,
    F.relu6,
    F.leaky_relu,
    F.elu,
    F.selu,
    F.celu,
    F.gelu,
    F.silu,
    F.mish,
    F.softplus,
    F.hardswish,
    F.hardsigmoid,
    F.hardtanh,
    F.logsigmoid,
    F.softmax,
    F.log_softmax,
    F.normalize,
    torch.sigmoid,
    torch.tanh,
    torch.relu,
    torch.exp,
    torch.log_softmax,
    torch.softmax,
)


def _partial_args(p: functools.partial) -> dict[str, Any]:
    return {"func": p.func, "args": list(p.args), "keywords": dict(p.keywords)}


def _partial(func: Any, args: list, keywords: dict) -> functools.partial:
    if not callable(func):  # only registered classes and functions reach here, rebuilt by name
        raise TypeError(f"a partial needs a function, found {type(func).__name__}")
    return functools.partial(func, *args, **keywords)


def _pattern_args(p: re.Pattern) -> dict[str, Any]:
    return {"pattern": p.pattern, "flags": p.flags}


def _compile(pattern: str | bytes, flags: int) -> re.Pattern:
    if not isinstance(pattern, (str, bytes)) or type(flags) is not int:
        raise TypeError("a regular expression is a pattern (str or bytes) and integer flags")
    return re.compile(pattern, flags & ~re.UNICODE if isinstance(pattern, bytes) else flags)


def _register_all() -> None:
    for t in _PLAIN_TYPES:
        register_serializable(t, reference=True, name=f"{t.__module__}.{t.__qualname__}")
    register_adapter(functools.partial, _partial_args, _partial, name="functools.partial")
    register_adapter(re.Pattern, _pattern_args, _compile, name="re.Pattern")
    for name in nn.modules.__all__:
        cls = getattr(nn, name, None)
        if isinstance(cls, type) and issubclass(cls, nn.Module):
            register_serializable(cls, name=f"torch.nn.{name}")
    # weight and spectral norm, orthogonal: the parametrizations torch.nn.utils.parametrizations adds
    register_serializable(
        parametrize.ParametrizationList, name="torch.nn.utils.parametrize.ParametrizationList"
    )
    for name in ("_WeightNorm", "_SpectralNorm", "_Orthogonal"):
        cls = getattr(parametrizations, name, None)
        if isinstance(cls, type):
            register_serializable(cls, name=f"torch.nn.utils.parametrizations.{name}")
    for f in _ACTIVATION_FUNCTIONS:
        register_serializable(
            f, name=f"{'torch.nn.functional' if f.__module__ == F.__name__ else 'torch'}.{f.__name__}"
        )


_register_all()
