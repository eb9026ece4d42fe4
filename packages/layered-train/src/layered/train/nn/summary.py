"""`model_summary`: a table of a model's layers with output shapes and parameter counts.

One batch runs through the model in eval mode, without gradients; a hook on each layer records
its output shape. A layer is a module without children (a parametrised module such as a
weight-normalised conv counts as one), or a container that owns parameters itself, which then
counts those only, so the parameter column adds up to the total.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from layered.core.device import to_device
from layered.train.errors import TrainError

__all__ = ["model_summary"]

_HEADER = ("Layer (type)", "Output Shape", "Param #", "Trainable")


def _layers(model: nn.Module) -> list[tuple[nn.Module, list[nn.Parameter]]]:
    """Each layer of `model` in registration order, with the parameters it is credited with."""
    found, seen = [], set()

    def walk(m: nn.Module) -> None:
        whole = not list(m.children()) or parametrize.is_parametrized(m)
        params = [p for p in m.parameters(recurse=whole) if id(p) not in seen]
        seen.update(id(p) for p in params)
        if whole or params:
            found.append((m, params))
        if not whole:
            for child in m.children():
                walk(child)

    walk(model)
    return found


def _name(m: nn.Module) -> str:
    # a parametrised module's class is generated on the fly; name the class it was made from
    return type(m).__bases__[0].__name__ if parametrize.is_parametrized(m) else type(m).__name__


def _shape(o: Any) -> str:
    if isinstance(o, torch.Tensor):
        return " x ".join(str(s) for s in o.shape) or "scalar"
    if isinstance(o, (tuple, list)):
        return "[" + ", ".join(_shape(x) for x in o) + "]"
    return type(o).__name__


def _trainable(params: list[nn.Parameter]) -> str:
    if not params:
        return ""
    flags = {p.requires_grad for p in params}
    return "partial" if len(flags) == 2 else str(flags.pop())


def _first_batch(learn) -> tuple:
    try:
        b = next(iter(learn.dls.train))
    except StopIteration:
        raise TrainError("model_summary needs one batch of learn.dls.train, which is empty") from None
    b = tuple(b) if isinstance(b, (tuple, list)) else (b,)
    n_inp = getattr(learn.dls, "n_inp", 1) if len(b) > 1 else 1
    return b[:n_inp]


def _run(model: nn.Module, layers: dict[int, nn.Module], xb: tuple) -> list[tuple[nn.Module, str]]:
    """Run `xb` through `model` and return (layer, output shape) in the order the layers first ran."""
    calls: dict[int, str] = {}

    def record(m: nn.Module, inp, out) -> None:
        calls.setdefault(id(m), _shape(out))

    handles = [m.register_forward_hook(record) for m in layers.values()]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(*xb)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return [(layers[i], shape) for i, shape in calls.items()]


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    fmt = lambda r: "  ".join(
        c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
    ).rstrip()
    rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
    return [rule, fmt(rows[0]), rule, *(fmt(r) for r in rows[1:]), rule]


def model_summary(learn_or_model, *xb: torch.Tensor) -> str:
    """A text table of the layers of a model (or of `learn.model`): type, output shape, parameters, trainable.

    `xb` are the model's inputs; given a Learner they default to the inputs of one batch of
    `learn.dls.train`. Totals of all, trainable and non-trainable parameters follow; for a
    Learner, also its optimizer, loss function and callbacks. Layers that did not run on this
    batch show `-` as their shape.
    """
    learn = None if isinstance(learn_or_model, nn.Module) else learn_or_model
    model = learn_or_model if learn is None else getattr(learn, "model", None)
    if not isinstance(model, nn.Module):
        raise TrainError(
            f"model_summary needs an nn.Module or a Learner, got {type(learn_or_model).__name__}"
        )
    if not xb:
        if learn is None:
            raise TrainError(f"model_summary of a bare {type(model).__name__} needs its inputs: pass *xb")
        xb = _first_batch(learn)
    device = next(iter(model.parameters()), None)
    xb = to_device(tuple(xb), device.device if device is not None else learn.device)
    layers = _layers(model)
    credited = {id(m): params for m, params in layers}
    ran = _run(model, {id(m): m for m, _ in layers}, xb)
    ran_ids = {id(m) for m, _ in ran}
    ran += [(m, "-") for m, _ in layers if id(m) not in ran_ids]
    rows = [_HEADER] + [
        (_name(m), shape, f"{sum(p.numel() for p in credited[id(m)]):,}", _trainable(credited[id(m)]))
        for m, shape in ran
    ]
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    lines = [
        f"{type(model).__name__} (Input shape: {_shape(list(xb))})",
        *_table(rows),
        f"Total params: {total:,}",
        f"Total trainable params: {trainable:,}",
        f"Total non-trainable params: {total - trainable:,}",
    ]
    if learn is not None:
        opt_func = getattr(learn, "opt_func", None)
        lines += [
            "",
            f"Optimizer used: {getattr(opt_func, '__name__', repr(opt_func))}",
            f"Loss function: {learn.loss_func!r}",
            "",
            "Callbacks:",
            *(f"  - {type(cb).__name__}" for cb in getattr(learn, "cbs", [])),
        ]
    return "\n".join(lines)
