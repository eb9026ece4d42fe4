"""Shared check of the graph exports: ONNX (run by onnxruntime) and `torch.export` agree with `get_preds`."""

import numpy as np
import pytest
import torch

from layered.train.saving.graph_export import load_program, read_sidecar

ATOL = 1e-4


def onnx_runtime():
    """onnxruntime, or a skip naming the extra that installs the exporter and the runtime."""
    for name in ("onnx", "onnxscript"):
        pytest.importorskip(name, reason=f"export_onnx needs {name}: pip install layered-train[onnx]")
    return pytest.importorskip(
        "onnxruntime",
        reason="the parity tests run ONNX graphs with onnxruntime: pip install layered-train[onnx]",
    )


def assert_close(got, expected, what):
    got = got.detach() if isinstance(got, torch.Tensor) else torch.as_tensor(np.asarray(got))
    assert tuple(got.shape) == tuple(expected.shape), (
        f"{what}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    )
    if expected.dtype == torch.bool or not expected.is_floating_point():
        assert torch.equal(got.to(expected.dtype), expected), what
    else:
        diff = (got.double() - expected.double()).abs().max().item()
        assert diff <= ATOL, f"{what}: differs by {diff}"


def assert_graph_parity(learn, dl, inputs, tmp_path, fname="model", **options):
    """Export `learn` both ways; on `inputs` (the raw batch of `dl`) each gives get_preds' preds and decoded within 1e-4.

    `inputs` is a tuple of tensors, or a function of the sidecar that builds them as a server
    would. `options` go to both exports (text: `text_len`). Returns the ONNX sidecar.
    """
    ort = onnx_runtime()
    preds, _, decoded = learn.get_preds(dl=dl, with_decoded=True)
    learn.path = tmp_path
    onnx_file = learn.export_onnx(f"{fname}.onnx", **options)
    program_file = learn.export_program(f"{fname}.pt2", **options)
    sidecar = read_sidecar(onnx_file)
    inputs = inputs(sidecar) if callable(inputs) else inputs
    assert len(inputs[0]) != 2, "parity must be checked at a batch size other than the traced one (2)"
    names = [i["name"] for i in sidecar["inputs"]]
    assert all(i["shape"][0] == "batch" for i in sidecar["inputs"])
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == names
    assert [o.name for o in session.get_outputs()] == ["preds", "decoded"]
    got_preds, got_decoded = session.run(["preds", "decoded"], {n: x.numpy() for n, x in zip(names, inputs)})
    assert_close(got_preds, preds, "onnx preds")
    assert_close(got_decoded, decoded, "onnx decoded")
    program = load_program(program_file).module()
    with torch.no_grad():
        p_preds, p_decoded = program(*inputs)
    assert_close(p_preds, preds, "program preds")
    assert_close(p_decoded, decoded, "program decoded")
    assert read_sidecar(program_file)["inputs"] == sidecar["inputs"]
    return sidecar
