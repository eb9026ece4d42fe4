"""Export a Learner's whole inference path as a graph for serving: ONNX, or a `torch.export` program.

Both exports trace the same module (`layered.train.saving.serving.serving_graph`): the device-side
preprocessing the data declares (normalization, resizing to the training size, missing values
and normalization of tabular columns, id look-up), the model, and the loss function's activation
and decoding. Inputs and outputs are named and the batch size is dynamic. A JSON sidecar written
beside the graph (same name, `.json`) describes what stays outside: decoding files, tokenization,
vocabularies, class names. Each export checks itself: the written graph is run on the traced
inputs, at that batch size and at another one, and must agree with the live module within `atol`.

`torch.export` programs are saved with `torch.export.save` and read with `torch.export.load`;
layered pickles nothing. ONNX needs the `onnx` extra of layered-train (onnx, onnxruntime,
onnxscript), imported only here.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from layered.core.atomic import atomic_write
from layered.train.errors import TrainError
from layered.train.extras import missing_extra
from layered.train.saving.serving import ServingGraph, ServingSpec, serving_graph

__all__ = ["export_onnx", "export_program", "load_program", "onnx_session", "read_sidecar", "sidecar_file"]


def sidecar_file(graph_file: str | Path) -> Path:
    """Where the sidecar of `graph_file` lives: the same name with the suffix `.json`."""
    return Path(graph_file).with_suffix(".json")


def read_sidecar(graph_file: str | Path) -> dict:
    """The sidecar of an exported graph, as plain JSON data."""
    file = sidecar_file(graph_file)
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise TrainError(f"{file}: not a readable sidecar ({type(e).__name__}: {e})") from e
    if not isinstance(data, dict) or data.get("format") != "layered-serving":
        raise TrainError(f"{file}: not a layered serving sidecar (its 'format' is not 'layered-serving')")
    return data


def _dynamic_shapes(spec: ServingSpec) -> tuple:
    """One dict per input: the batch dimension, shared by all inputs, plus the spec's own dynamic dimensions."""
    dims: dict[str, Any] = {"batch": torch.export.Dim("batch", min=1)}
    shapes = []
    for dyn in spec.dynamic or [{}] * len(spec.example):
        shape = {0: dims["batch"]}
        for axis, name in dyn.items():
            dims.setdefault(name, torch.export.Dim(name, min=1))
            shape[axis] = dims[name]
        shapes.append(shape)
    return tuple(shapes)


def _ops_named(err: BaseException) -> list[str]:
    """Operator names (`aten::lstm`, `aten.lstm.input`, ...) mentioned in an exporter's error."""
    text = "".join(str(e) for e in (err, err.__cause__) if e is not None)
    return sorted(set(re.findall(r"\baten[:.]{1,2}[A-Za-z0-9_.]+", text)))[:5]


def _traced_error(what: str, learn: Any, err: BaseException) -> TrainError:
    ops = _ops_named(err)
    named = f"; operators involved: {', '.join(ops)}" if ops else ""
    first = str(err).strip().splitlines()[0][:400] if str(err).strip() else type(err).__name__
    return TrainError(
        f"{what}: the inference path of {type(learn.model).__name__} could not be exported "
        f"({type(err).__name__}: {first}){named}. See docs/deploy.md for what exports"
    )


def _program(learn: Any, graph: ServingGraph, spec: ServingSpec) -> torch.export.ExportedProgram:
    try:
        with warnings.catch_warnings():
            # nn.LSTM re-assigns its flat weight list on every call; torch notes it, harmlessly
            warnings.filterwarnings("ignore", message="The tensor attributes .* were assigned during export")
            # `forward(*inputs)`: the dynamic shapes of the varargs are one tuple
            return torch.export.export(
                graph, spec.example, dynamic_shapes=(_dynamic_shapes(spec),), strict=False
            )
    except Exception as e:
        raise _traced_error("export_program", learn, e) from e


def _smaller(spec: ServingSpec) -> tuple:
    """The traced inputs at another batch size (one row fewer, or the row twice)."""
    n = len(spec.example[0])
    return tuple(x[: n - 1] if n > 1 else torch.cat([x, x]) for x in spec.example)


def _check(name: str, file: Path, run: Any, graph: ServingGraph, spec: ServingSpec, atol: float) -> None:
    """Run the written graph on the traced inputs and at another batch size against the live module."""
    for inputs in (spec.example, _smaller(spec)):
        with torch.no_grad():
            expected = graph(*inputs)
        got = run(inputs)
        for out_name, e, g in zip(("preds", "decoded"), expected, got):
            g = torch.as_tensor(g)
            if tuple(g.shape) != tuple(e.shape):
                raise TrainError(
                    f"{name} to {file}: output {out_name!r} has shape {tuple(g.shape)} at batch size "
                    f"{len(inputs[0])}, the live learner gives {tuple(e.shape)}"
                )
            diff = (g.double() - e.double()).abs().max().item() if e.numel() else 0.0
            if diff > atol:
                raise TrainError(
                    f"{name} to {file}: output {out_name!r} differs from the live learner by {diff:.3g} "
                    f"(more than atol={atol}) at batch size {len(inputs[0])}"
                )


def _sidecar_text(sidecar: dict) -> str:
    try:
        return json.dumps(sidecar, indent=1) + "\n"
    except (TypeError, ValueError) as e:
        raise TrainError(
            f"the sidecar holds a value that is not plain JSON data ({e}); a serving hook returned it"
        ) from e


def _write_sidecar(file: Path, text: str) -> Path:
    out = sidecar_file(file)
    with atomic_write(out, "w", encoding="utf-8") as f:
        f.write(text)
    return out


def _target(learn: Any, fname: str | Path) -> Path:
    return Path(learn.path) / fname


@contextlib.contextmanager
def _model_kept(learn: Any) -> Iterator[None]:
    """Trace on the CPU in eval mode, then give the learner its model back where and as it was."""
    model = learn.model
    training = model.training
    device = next((p.device for p in model.parameters()), None)
    try:
        yield
    finally:
        model.train(training)
        if device is not None:
            model.to(device)


def export_program(
    learn: Any,
    fname: str | Path = "model.pt2",
    n: int = 2,
    check: bool = True,
    atol: float = 1e-4,
    **options: Any,
) -> Path:
    """Write the inference path as a `torch.export` program to `learn.path / fname` (with a sidecar); returns the file.

    Load it with `load_program(file)` (or `torch.export.load`) and call `.module()(*inputs)`:
    it returns `(preds, decoded)`. `n` rows of the validation data are traced; `options` go to
    the data's `serving_spec` (text: `text_len`, the fixed number of tokens of the graph's input).
    """
    with _model_kept(learn):
        return _export_program(learn, _target(learn, fname), n, check, atol, options)


def _export_program(learn: Any, file: Path, n: int, check: bool, atol: float, options: dict) -> Path:
    graph, spec, sidecar = serving_graph(learn, n, **options)
    program = _program(learn, graph, spec)
    if check:

        def run(inputs: tuple) -> tuple:
            with torch.no_grad():
                return program.module()(*inputs)

        _check("export_program", file, run, graph, spec, atol)
    text = _sidecar_text({**sidecar, "graph": file.name, "runtime": "torch.export"})
    with atomic_write(file, "wb") as f:
        torch.export.save(program, f)
    _write_sidecar(file, text)
    return file


def load_program(fname: str | Path) -> torch.export.ExportedProgram:
    """Read a program that `export_program` wrote (`torch.export.load`); call `.module()` to run it."""
    return torch.export.load(str(fname))


def _onnx_modules() -> tuple[Any, Any]:
    try:
        import onnx
        import onnxscript  # noqa: F401 - torch's ONNX exporter needs it; checked here to name the extra
    except ImportError as e:
        raise missing_extra(e.name or "onnx", "onnx", "export_onnx") from e
    return onnx, torch.onnx


def onnx_session(data: bytes | str | Path) -> Any:
    """An onnxruntime CPU session over an ONNX graph (bytes or a file)."""
    try:
        import onnxruntime
    except ImportError as e:
        raise missing_extra("onnxruntime", "onnx", "running an ONNX export") from e
    source = str(data) if isinstance(data, (str, Path)) else data
    return onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])


def export_onnx(
    learn: Any,
    fname: str | Path = "model.onnx",
    n: int = 2,
    opset: int | None = None,
    check: bool = True,
    atol: float = 1e-4,
    **options: Any,
) -> Path:
    """Write the inference path as one ONNX graph to `learn.path / fname`, and its sidecar; returns the file.

    Inputs are named as the sidecar lists them, outputs are `preds` and `decoded`, the batch
    size is dynamic. With `check` (and onnxruntime installed) the file is run on the traced inputs
    at two batch sizes and must match the live learner within `atol`. Needs
    `pip install layered-train[onnx]`. `options` go to the data's `serving_spec` (text: `text_len`).
    """
    modules = _onnx_modules()
    with _model_kept(learn):
        return _export_onnx(learn, _target(learn, fname), n, opset, check, atol, options, modules)


def _export_onnx(
    learn: Any, file: Path, n: int, opset: int | None, check: bool, atol: float, options: dict, modules: tuple
) -> Path:
    onnx, torch_onnx = modules
    graph, spec, sidecar = serving_graph(learn, n, **options)
    program = _program(learn, graph, spec)
    try:
        exported = torch_onnx.export(
            program,
            spec.example,
            input_names=spec.names,
            output_names=["preds", "decoded"],
            opset_version=opset,
            verbose=False,
        )
    except Exception as e:
        raise _traced_error("export_onnx", learn, e) from e
    data = exported.model_proto.SerializeToString()
    if check:
        session = onnx_session(data)

        def run(inputs: tuple) -> list:
            feed = {nm: x.numpy() for nm, x in zip(spec.names, inputs)}
            return session.run(["preds", "decoded"], feed)

        _check("export_onnx", file, run, graph, spec, atol)
    opset_used = next(
        (o.version for o in onnx.load_from_string(data).opset_import if o.domain in ("", "ai.onnx")), None
    )
    text = _sidecar_text({**sidecar, "graph": file.name, "runtime": "onnx", "opset": opset_used})
    with atomic_write(file, "wb") as f:
        f.write(data)
    _write_sidecar(file, text)
    return file
