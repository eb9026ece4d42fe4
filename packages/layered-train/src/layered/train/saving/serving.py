"""The inference path of a Learner as one module: device-side preprocessing, the model, activation, decoding.

`serving_graph(learn)` builds what `export_onnx` and `export_program` trace, and the sidecar that
describes what stays outside the graph. The data says what its preprocessing is, through two
optional hooks that keep this module free of any application's types:

- an inference loader may define `serving_spec(n, **options) -> ServingSpec` and describe
  everything itself (the tabular and collab loaders do: their batches come from processed
  columns; the text loader does: its token ids are padded to a fixed length);
- otherwise, for a pipeline loader (`TfmdDL`), the raw batch is the batch before `after_batch`,
  each transform of `after_item` may define `serving_step() -> dict` (a JSON description of what
  a server must do to an item: decode, resize, tokenize) and `serving_module(types)` (a module
  run first in the graph, e.g. resizing to the training size), and each transform of
  `after_batch` that runs at inference must define `serving_module(types)`, returning one
  `nn.Module` or None per input position. A batch transform without it is refused, by name;
- a loader with no layered pipelines (a torch `DataLoader`) gives its batches' inputs as they are.

The graph's outputs are `preds` (the loss function's activation of the model's output: what
`get_preds` returns) and `decoded` (its `decodes`: class index, thresholded labels or the value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from layered.core.registry import registered_name
from layered.train.errors import TrainError
from layered.train.losses.flattened import BaseLossFlat, BCEWithLogitsLossFlat, _SoftmaxLossFlat

__all__ = [
    "PerInput",
    "ServingGraph",
    "ServingSpec",
    "decoding_rule",
    "pipeline_spec",
    "raw_batch",
    "serving_graph",
]

SIDECAR_FORMAT = "layered-serving"
SIDECAR_VERSION = 1


@dataclass
class ServingSpec:
    """What a data pipeline tells an export: the graph's inputs, its preprocessing and what stays outside.

    `names[i]`, `example[i]` and `dynamic[i]` (the dimensions besides the batch that may vary, by
    index, with a name) describe the graph's i-th input; `module(*inputs)` turns the inputs into
    the model's inputs (a tuple); `outside` is JSON describing what a server does before the graph.
    """

    names: list[str]
    example: tuple
    module: nn.Module
    outside: dict = field(default_factory=dict)
    dynamic: list[dict[int, str]] | None = None
    classes: list | None = None  # the class names, where the data's `vocab` does not give them


class PerInput(nn.Module):
    """Apply one module (or nothing, for None) to each input position; returns the tuple."""

    def __init__(self, modules: Sequence[nn.Module | None]):
        super().__init__()
        self.steps = nn.ModuleList([m if m is not None else nn.Identity() for m in modules])

    def forward(self, *inputs: torch.Tensor) -> tuple:
        return tuple(step(x) for step, x in zip(self.steps, inputs)) + tuple(inputs[len(self.steps) :])


class _Chain(nn.Module):
    """Run modules that each map a tuple of inputs to a tuple of inputs, in turn."""

    def __init__(self, steps: Sequence[nn.Module]):
        super().__init__()
        self.steps = nn.ModuleList(steps)

    def forward(self, *inputs: torch.Tensor) -> tuple:
        for step in self.steps:
            inputs = step(*inputs)
        return inputs


class _LossCall(nn.Module):
    """A method of the loss function (`activation` or `decodes`) as a module, so it is traced into the graph."""

    def __init__(self, loss_func: Any, method: str):
        super().__init__()
        self.loss_func, self.method = loss_func, method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self.loss_func, self.method)(x)


class ServingGraph(nn.Module):
    """`preprocess -> model -> (activation, decodes)` on plain tensors: what the exports trace.

    A model returning a tuple (an RNN's `(prediction, raw, dropped)`) is reduced to its first
    element, as the learner's inference callbacks do.
    """

    def __init__(self, preprocess: nn.Module, model: nn.Module, loss_func: Any):
        super().__init__()
        self.preprocess, self.model = preprocess, model
        self.activation = _LossCall(loss_func, "activation") if hasattr(loss_func, "activation") else None
        self.decodes = _LossCall(loss_func, "decodes") if hasattr(loss_func, "decodes") else None

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(*self.preprocess(*inputs))
        if isinstance(out, (tuple, list)):
            out = out[0]
        preds = self.activation(out) if self.activation is not None else out
        decoded = self.decodes(preds) if self.decodes is not None else preds
        return preds, decoded


def _plain(x: Any) -> Any:
    return x.as_subclass(torch.Tensor) if isinstance(x, torch.Tensor) else x


def raw_batch(dl: Any, n: int) -> tuple:
    """The first `n` items of `dl` collated, before `after_batch`: what the graph takes as inputs."""
    count = min(n, len(dl.dataset))
    if count == 0:
        raise TrainError("export: the inference loader has no items to trace the graph with; pass dl=...")
    items = [dl.do_item(i) for i in range(count)]
    items = dl.before_batch(items)
    b = dl.retain(dl.create_batch(items), items)
    return b if isinstance(b, tuple) else (b,)


def _runs(tfm: Any, split_idx: Any) -> bool:
    own = getattr(tfm, "split_idx", None)
    return own is None or own == split_idx


def _name(obj: Any) -> str:
    component = registered_name(type(obj))
    return component.name if component is not None else type(obj).__qualname__


def pipeline_spec(dl: Any, n_inp: int, n: int) -> ServingSpec:
    """The spec of a pipeline loader, from the hooks of its transforms (see the module's docstring)."""
    if not all(hasattr(getattr(dl, stage, None), "fs") for stage in ("after_item", "after_batch")):
        return _plain_loader_spec(dl, n_inp, n)
    inputs = raw_batch(dl, n)[:n_inp]
    types = tuple(type(x) for x in inputs)
    split = getattr(dl, "split_idx", None)
    steps, outside, in_graph = [], [], []
    for tfm in dl.after_item.fs:
        if not _runs(tfm, split):
            continue
        described = getattr(tfm, "serving_step", None)
        outside.append(described() if described is not None else {"transform": _name(tfm)})
        make = getattr(tfm, "serving_module", None)
        module = make(types) if make is not None else None
        if module is not None:
            steps.append(module if not isinstance(module, list) else PerInput(module))
            in_graph.append(_name(tfm))
    item_steps = list(steps)
    for tfm in dl.after_batch.fs:
        if not _runs(tfm, split):
            continue
        make = getattr(tfm, "serving_module", None)
        if make is None:
            raise TrainError(
                f"export: the batch transform {_name(tfm)} runs at inference but has no serving_module(types), "
                "so it cannot be put in the graph; define serving_module on it (returning an nn.Module per input), "
                "or remove it from the validation pipeline"
            )
        module = make(types)
        if module is not None:
            steps.append(module if not isinstance(module, list) else PerInput(module))
            in_graph.append(_name(tfm))
    names = [getattr(t, "serving_name", None) or f"input_{i}" for i, t in enumerate(types)]
    if len(set(names)) < len(names):
        names = [f"{nm}_{i}" for i, nm in enumerate(names)]
    # dimensions besides the batch that may vary: those an item step in the graph resizes from any size
    dynamic: list[dict[int, str]] = [{} for _ in types]
    for step in steps[: len(item_steps)]:
        for i, m in enumerate(getattr(step, "steps", [])):
            dynamic[i].update(getattr(m, "serving_dynamic", {}))
    before_batch = [_name(f) for f in getattr(getattr(dl, "before_batch", None), "fs", [])]
    decode = {nm: t.serving_decode for nm, t in zip(names, types) if getattr(t, "serving_decode", None)}
    described = {"decode": decode, "item_steps": outside, "graph_steps": in_graph}
    if before_batch:
        described["batch_steps"] = before_batch
    return ServingSpec(names, tuple(_plain(x) for x in inputs), _Chain(steps), described, dynamic)


def _plain_loader_spec(dl: Any, n_inp: int, n: int) -> ServingSpec:
    """A loader without layered pipelines (a torch DataLoader): its batches are the model's inputs as they are."""
    try:
        b = next(iter(dl))
    except Exception as e:
        raise TrainError(
            f"export: no batch could be read from the inference loader {type(dl).__name__} "
            f"({type(e).__name__}: {e}) to trace the graph with"
        ) from e
    b = b if isinstance(b, (tuple, list)) else (b,)
    inputs = tuple(_plain(x)[:n] for x in b[: n_inp if len(b) > 1 else 1])
    if not all(isinstance(x, torch.Tensor) for x in inputs):
        raise TrainError(f"export: the inputs of a batch of {type(dl).__name__} are not all tensors")
    names = [f"input_{i}" for i in range(len(inputs))]
    outside = {"note": "a plain loader: the graph takes the model's inputs as the loader gives them"}
    return ServingSpec(names, inputs, _Chain([]), outside, [{} for _ in inputs])


def _inference_loader(learn: Any) -> Any:
    loaders = getattr(learn.dls, "loaders", None)
    if loaders:
        return loaders[1] if len(loaders) > 1 else loaders[0]
    return getattr(learn.dls, "valid", None)


def _json_safe(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_json_safe(o) for o in v]
    if hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        return v.item()
    return str(v)


def decoding_rule(learn: Any, classes: list | None = None) -> dict:
    """How the graph's `preds` and `decoded` relate to the model's output, and what `decoded` means."""
    loss = learn.loss_func
    rule: dict = {"loss": type(loss).__name__}
    axis = getattr(loss, "axis", -1)
    if isinstance(loss, BCEWithLogitsLossFlat):
        rule.update(preds="sigmoid(model output)", decoded=f"preds > {loss.thresh}", thresh=loss.thresh)
    elif isinstance(loss, _SoftmaxLossFlat):
        rule.update(preds=f"softmax(model output, axis={axis})", decoded=f"argmax(preds, axis={axis})")
    else:
        name, own = type(loss).__name__, {}
        for method in ("activation", "decodes"):  # a loss of the user's: its own methods are traced
            found = getattr(type(loss), method, None)
            own[method] = found is not None and found is not getattr(BaseLossFlat, method)
        rule["preds"] = f"{name}.activation(model output)" if own["activation"] else "model output"
        rule["decoded"] = f"{name}.decodes(preds)" if own["decodes"] else "preds"
    rule["axis"] = axis
    y_range = _y_range(learn.model)
    if y_range is not None:
        rule["y_range"] = y_range
    vocab = getattr(learn.dls, "vocab", None)
    vocab = classes if vocab is None else vocab
    vocab = _target_vocab(learn) if vocab is None else vocab
    if vocab is not None:
        vocab = _json_safe(list(vocab))
        if vocab and isinstance(
            vocab[0], list
        ):  # several targets' vocabularies: the first is the class names
            vocab = vocab[-1]
        rule["classes"] = vocab
    return rule


def _target_vocab(learn: Any) -> list | None:
    """The vocabulary of the last target's transforms (a `Categorize`), for loaders that do not name it."""
    dl = _inference_loader(learn)
    tls = getattr(getattr(dl, "dataset", None), "tls", None)
    if not tls or len(tls) <= learn.n_inp:
        return None
    for f in getattr(getattr(tls[-1], "tfms", None), "fs", []):
        if getattr(f, "vocab", None) is not None:
            return list(f.vocab)
    return None


def _y_range(model: nn.Module) -> list | None:
    for m in model.modules():
        if type(m).__name__ == "SigmoidRange":
            return [float(m.low), float(m.high)]
    return None


def serving_graph(learn: Any, n: int = 2, **options: Any) -> tuple[ServingGraph, ServingSpec, dict]:
    """The graph module of `learn`'s inference path (on the CPU, in eval mode), its spec and the sidecar description.

    `options` go to the loader's `serving_spec` (e.g. `text_len` for text).
    """
    dl = _inference_loader(learn)
    if dl is None:
        raise TrainError("export: the learner has no data loaders to describe its inputs")
    own = getattr(dl, "serving_spec", None)
    if own is not None:
        spec = own(n, **options)
    elif options:
        raise TrainError(
            f"export: options {sorted(options)} were given, but the inference loader {type(dl).__name__} "
            "takes none (only a loader with serving_spec does, e.g. text's text_len)"
        )
    else:
        spec = pipeline_spec(dl, learn.n_inp, n)
    graph = ServingGraph(spec.module, learn.model, learn.loss_func).cpu().eval()
    if hasattr(learn.model, "reset"):
        learn.model.reset()  # no state carried over from the last batch into the trace
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "inputs": [
            {"name": nm, "dtype": str(x.dtype).removeprefix("torch."), "shape": _shape(x, dyn)}
            for nm, x, dyn in zip(spec.names, spec.example, spec.dynamic or [{}] * len(spec.names))
        ],
        "outputs": [{"name": "preds"}, {"name": "decoded"}],
        "outside": spec.outside,
        "decoding": decoding_rule(learn, spec.classes),
        "model": type(learn.model).__name__,
    }
    return graph, spec, sidecar


def _shape(x: torch.Tensor, dynamic: dict[int, str]) -> list:
    return ["batch" if i == 0 else dynamic.get(i, s) for i, s in enumerate(x.shape)]
