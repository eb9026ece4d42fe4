"""export_onnx / export_program on layered-train alone: plain loaders, pipelines, errors that name the fault."""

import json
import sys

import numpy as np
import pytest
import torch
from graph_parity import ATOL, assert_close, onnx_runtime
from torch import nn
from train_tasks import class_task, mlp

from layered.core.seed import set_seed
from layered.core.transform import Transform
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.normalize import Normalize
from layered.data.splitters import RandomSplitter
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import BCEWithLogitsLossFlat, CrossEntropyLossFlat
from layered.train.saving.graph_export import load_program, read_sidecar, sidecar_file

ITEMS = [f"item-{i:04d}" for i in range(300)]


def features(item):
    n = int(item[-4:])
    return torch.tensor([n % 10, n // 10 % 10, n // 100 % 10], dtype=torch.float32)


def label(item):
    return "high" if int(item[-1]) >= 5 else "low"


def torch_learner(tmp_path, model=None, loss_func=None, fit=True):
    set_seed(0)
    learn = Learner(
        class_task(), model or mlp(), loss_func=loss_func or CrossEntropyLossFlat(), path=tmp_path
    )
    if fit:
        with learn.no_logging():
            learn.fit(1, 1e-2)
    return learn


def pipeline_learner(tmp_path, batch_tfms=None):
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=features,
        get_y=label,
        splitter=RandomSplitter(0.2, seed=0),
        batch_tfms=batch_tfms,
    )
    set_seed(0)
    return Learner(dblock.dataloaders(ITEMS, bs=32), mlp(3, 2), path=tmp_path)


def test_a_learner_over_plain_torch_loaders_exports_its_model_and_decoding(tmp_path):
    learn = torch_learner(tmp_path)
    x = torch.randn(5, 2)
    preds, _, decoded = learn.get_preds(dl=[(x, torch.zeros(5, dtype=torch.long))], with_decoded=True)
    program = load_program(learn.export_program())
    p, d = program.module()(x)
    assert_close(p, preds, "preds")
    assert_close(d, decoded, "decoded")
    assert torch.allclose(p.sum(1), torch.ones(5), atol=1e-5)  # the softmax is in the graph
    sidecar = read_sidecar(tmp_path / "model.pt2")
    assert sidecar["inputs"] == [{"name": "input_0", "dtype": "float32", "shape": ["batch", 2]}]
    assert sidecar["runtime"] == "torch.export" and sidecar["graph"] == "model.pt2"


def test_a_pipeline_normalization_runs_inside_the_onnx_graph(tmp_path):
    ort = onnx_runtime()
    learn = pipeline_learner(tmp_path, batch_tfms=Normalize())  # statistics from a training batch
    dl = learn.dls.test_dl(ITEMS[:5])
    preds, _, decoded = learn.get_preds(dl=dl, with_decoded=True)
    file = learn.export_onnx()
    sidecar = json.loads(sidecar_file(file).read_text())
    assert sidecar["outside"]["graph_steps"] == ["layered.data.normalize.Normalize"]
    assert sidecar["decoding"]["classes"] == ["high", "low"]
    raw = torch.stack([features(i) for i in ITEMS[:5]])  # before normalization: the graph does it
    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    got_preds, got_decoded = session.run(None, {"input_0": raw.numpy()})
    assert_close(got_preds, preds, "preds")
    assert_close(got_decoded, decoded, "decoded")


def test_sigmoid_and_threshold_decoding_are_in_the_graph_and_the_sidecar(tmp_path):
    learn = torch_learner(tmp_path, model=mlp(2, 3), loss_func=BCEWithLogitsLossFlat(thresh=0.3), fit=False)
    x = torch.randn(4, 2)
    p, d = load_program(learn.export_program()).module()(x)
    with torch.no_grad():
        expected = torch.sigmoid(learn.model.eval()(x))
    assert (p - expected).abs().max() <= ATOL and torch.equal(d, expected > 0.3)
    decoding = read_sidecar(tmp_path / "model.pt2")["decoding"]
    assert decoding["thresh"] == 0.3 and decoding["decoded"] == "preds > 0.3"


class Shouts(Transform):
    """A batch transform with no serving form (it adds one to every input)."""

    def encodes(self, x: torch.Tensor):
        return x + 1


def test_a_batch_transform_without_a_serving_form_is_refused_by_name(tmp_path):
    learn = pipeline_learner(tmp_path, batch_tfms=Shouts())
    with pytest.raises(TrainError, match=r"batch transform .*Shouts.* has no serving_module"):
        learn.export_program()
    assert not (tmp_path / "model.pt2").exists() and not (tmp_path / "model.json").exists()


class DataDependent(nn.Module):
    """A model whose control flow reads a tensor's value: no graph can hold it."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        out = self.lin(x)
        return out * 2 if float(out.detach().sum()) > 0 else out


def test_a_model_that_cannot_be_traced_raises_the_librarys_error_naming_it(tmp_path):
    learn = torch_learner(tmp_path, model=DataDependent())
    with pytest.raises(TrainError, match="inference path of DataDependent could not be exported"):
        learn.export_program()
    assert not (tmp_path / "model.pt2").exists()


def test_export_leaves_the_model_in_its_mode(tmp_path):
    learn = torch_learner(tmp_path)
    learn.model.train()
    learn.export_program()
    assert learn.model.training


def test_without_the_onnx_extra_the_error_names_it(tmp_path, monkeypatch):
    learn = torch_learner(tmp_path)
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if it were not installed
    with pytest.raises(TrainError, match=r"pip install layered-train\[onnx\]"):
        learn.export_onnx()
    assert not (tmp_path / "model.onnx").exists()


def test_onnx_batch_is_dynamic_and_named(tmp_path):
    ort = onnx_runtime()
    learn = torch_learner(tmp_path)
    session = ort.InferenceSession(str(learn.export_onnx()), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "input_0" and isinstance(inp.shape[0], str)
    for n in (1, 7):
        x = np.random.default_rng(n).normal(size=(n, 2)).astype(np.float32)
        preds, decoded = session.run(["preds", "decoded"], {"input_0": x})
        assert preds.shape == (n, 2) and decoded.shape == (n,)
        assert np.array_equal(decoded, preds.argmax(1))
