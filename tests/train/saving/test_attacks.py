"""The project's own attack suite against load_learner: crafted files run no code, touch nothing, raise our error.

Each attack starts from a real export and rewrites what an attacker controls (the JSON
configuration, the tensors, the raw bytes), then loads it with the defaults. The planted
payloads would write a marker file if anything ran them.
"""

import json
import os
import struct
import subprocess
import sys

import pytest
import torch
from torch import nn
from train_tasks import class_task, mlp

from layered.core.errors import LayeredError
from layered.core.registry import register_serializable
from layered.core.seed import set_seed
from layered.train.learner import Learner, load_learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.saving.artifact import read_artifact, write_artifact


@pytest.fixture
def export(tmp_path):
    """A real export of a small model with an LSTM and a Linear, and its parts."""
    set_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    learn = Learner(class_task(), model, loss_func=CrossEntropyLossFlat(), path=tmp_path / "src")
    file = learn.export()
    config, tensors, _ = read_artifact(file, "layered-learner")
    return file, config, tensors


def planted(tmp_path, config, tensors, name="planted.safetensors"):
    file = tmp_path / name
    write_artifact(file, "layered-learner", config, tensors)
    return file


def assert_refused(tmp_path, file, match, marker):
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(LayeredError, match=match):
        load_learner(file)
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, nothing removed


def _marker_command(marker):
    return f"touch {marker}"


@pytest.mark.parametrize(
    "where, value, message",
    [
        ("model", {"$module": "os.system"}, "'os.system' is not a registered component"),
        ("model", {"$obj": "subprocess.Popen", "state": {}}, "'subprocess.Popen' is not a registered component"),
        ("loss_func", {"$name": "builtins.eval"}, "'builtins.eval' is not a registered component"),
        ("loss_func", {"$name": "torch.load"}, "'torch.load' is not a registered component"),
        ("loss_func", {"$name": "torch.hub.load"}, "not a registered component"),
        ("loss_func", {"$obj": "torch.nn.Linear", "state": {}}, "registered as a module, not as object"),
        ("dls", {"$obj": "functools.partial", "config": {"func": {"$name": "os.system"}, "args": ["x"], "keywords": {}}}, "'os.system' is not a registered"),
    ],
)  # fmt: skip
def test_names_outside_the_registry_are_refused(tmp_path, export, where, value, message):
    _, config, tensors = export
    marker = tmp_path / "pwned"
    config[where] = json.loads(json.dumps(value).replace("x", _marker_command(marker)))
    assert_refused(tmp_path, planted(tmp_path, config, tensors), message, marker)


def test_a_registered_foreign_class_never_runs_its_setstate(tmp_path, export, monkeypatch):
    """torch's RNNs define __setstate__; a module from a file is never given its state that way."""
    file = export[0]
    marker = tmp_path / "pwned"

    def evil_setstate(self, state):
        marker.write_text("ran")

    monkeypatch.setattr(nn.Linear, "__setstate__", evil_setstate, raising=False)
    loaded = load_learner(file)
    assert isinstance(loaded.model[0], nn.Linear) and not marker.exists()


@pytest.mark.parametrize(
    "attr",
    [
        "forward",
        "cpu",
        "eval",
        "load_state_dict",
        "named_parameters",
        "state_dict",
        "__class__",
        "__dict__",
        "_apply",
    ],
)
def test_attributes_that_would_shadow_methods_are_refused(tmp_path, export, attr):
    _, config, tensors = export
    marker = tmp_path / "pwned"
    config["model"].setdefault("state", {})[attr] = {"$name": "torch.nn.functional.relu"}
    assert_refused(tmp_path, planted(tmp_path, config, tensors), "refusing to set", marker)


def test_an_attribute_cannot_hide_a_child_module(tmp_path, export):
    _, config, tensors = export
    config["model"].setdefault("state", {})["0"] = 1
    config["model"].setdefault("state", {})["_modules"] = {}
    assert_refused(tmp_path, planted(tmp_path, config, tensors), "refusing to set|would hide", tmp_path / "x")


@pytest.mark.parametrize(
    "value, message",
    [
        ({"$method": "__subclasses__", "of": {"$name": "builtins.object"}}, "is not a class method"),
        ({"$method": "mro", "of": {"$name": "builtins.object"}}, "is not a class method"),
        ({"$method": "fromkeys", "of": {"$name": "os.environ"}}, "not a registered component"),
        ({"$ref": 999}, "not \\(yet\\) built"),
        ({"$ref": "0"}, "not \\(yet\\) built"),
        ({"$tensor": "model.missing"}, "which the weights do not hold"),
        ({"$bytes": "!!notbase64"}, "malformed \\$bytes"),
        ({"$dtype": "__class__"}, "not a torch dtype"),
        ({"$npdtype": "O"}, "not plain data"),
        ({"$ndarray": ["a", "b"], "dtype": "<U1", "shape": [1000, 1000]}, "does not hold 2 values"),
        ({"$ndarray": [1, 2], "dtype": "<i8", "shape": [2]}, "holds objects or strings, not int64"),
        ({"$weird": 1}, "unknown keys"),
    ],
)
def test_callables_and_malformed_values_smuggled_as_values_are_refused(tmp_path, export, value, message):
    _, config, tensors = export
    config["loss_func"]["state"]["reduction"] = value
    assert_refused(tmp_path, planted(tmp_path, config, tensors), message, tmp_path / "pwned")


def test_tensors_are_exactly_those_in_the_file_and_missing_ones_are_named(tmp_path, export):
    _, config, tensors = export
    bad = dict(tensors)
    bad["model.0.weight"] = torch.ones(50, 7)
    loaded = load_learner(planted(tmp_path, config, bad))
    assert torch.equal(loaded.model[0].weight, torch.ones(50, 7))  # no shape but the file's is ever made
    del bad["model.0.weight"]
    assert_refused(
        tmp_path, planted(tmp_path, config, bad, "missing.safetensors"), "weights do not hold", tmp_path / "x"
    )


def _header_bytes(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


def test_oversized_shapes_cannot_ask_for_memory_the_file_does_not_hold(tmp_path, export):
    """A tensor of 40 GB declared in a 200-byte file: refused before anything is allocated."""
    _, config, _ = export
    header = {
        "__metadata__": {"format": "layered-learner", "format_version": "1.0", "config": json.dumps(config)},
        "model.0.weight": {"dtype": "F32", "shape": [100_000, 100_000], "data_offsets": [0, 40_000_000_000]},
    }
    file = tmp_path / "huge.safetensors"
    file.write_bytes(_header_bytes(header) + b"\0" * 64)
    assert_refused(tmp_path, file, "tensors cannot be read", tmp_path / "x")
    file.write_bytes(struct.pack("<Q", 10**15) + b"{}")  # a header length past the end of the file
    assert_refused(tmp_path, file, "header would be", tmp_path / "x")


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (_marker_command(self.marker),))


def test_pickle_payloads_in_every_format_are_refused_without_running(tmp_path):
    import pickle

    marker = tmp_path / "pwned"
    torch.save({"model": _Payload(marker)}, tmp_path / "torch.safetensors")
    (tmp_path / "raw.safetensors").write_bytes(pickle.dumps(_Payload(marker), protocol=2))
    for name, message in (("torch.safetensors", "zip archive"), ("raw.safetensors", "a pickle")):
        assert_refused(tmp_path, tmp_path / name, message, marker)
    # the pickle inside the JSON configuration is only a string
    header = {"__metadata__": {"format": "layered-learner", "format_version": "1.0", "config": pickle.dumps(_Payload(marker)).hex()}}  # fmt: skip
    (tmp_path / "meta.safetensors").write_bytes(_header_bytes(header))
    assert_refused(tmp_path, tmp_path / "meta.safetensors", "not valid JSON", marker)


def test_nesting_bombs_are_refused(tmp_path, export):
    config = export[1]
    file = tmp_path / "deep.safetensors"
    header = {"__metadata__": {"format": "layered-learner", "format_version": "1.0", "config": json.dumps(config)[:10] + "[" * 200_000 + "]" * 200_000}}  # fmt: skip
    file.write_bytes(_header_bytes(header))
    assert_refused(tmp_path, file, "not valid JSON|nested too deeply", tmp_path / "x")


def test_a_version_or_package_name_from_the_file_imports_nothing_else(tmp_path, export):
    _, config, tensors = export
    config["packages"] = ["os"]
    assert_refused(
        tmp_path, planted(tmp_path, config, tensors), "unknown layered distribution 'os'", tmp_path / "x"
    )
    config["packages"] = ["../../etc"]
    assert_refused(
        tmp_path,
        planted(tmp_path, config, tensors, "b.safetensors"),
        "unknown layered distribution",
        tmp_path / "x",
    )


def test_a_crafted_file_runs_nothing_in_a_fresh_interpreter(tmp_path, export):
    """End to end, in a process of its own: the planted export raises our error and writes no marker."""
    _, config, tensors = export
    marker = tmp_path / "pwned"
    config["model"].setdefault("state", {})["forward"] = {"$obj": "functools.partial", "config": {"func": {"$name": "posix.system"}, "args": [_marker_command(marker)], "keywords": {}}}  # fmt: skip
    file = planted(tmp_path, config, tensors)
    code = (
        "from layered.train.learner import load_learner\n"
        "from layered.core.errors import LayeredError\n"
        f"try:\n    load_learner({str(file)!r})\nexcept LayeredError as e:\n    print('refused:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "refused:" in out.stdout and "not a registered component" in out.stdout, out.stderr
    assert not marker.exists()


def test_mlp_task_loads_after_all_this(tmp_path):
    """The attacks leave the registry as it was: a normal export still round-trips."""
    set_seed(0)
    learn = Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), path=tmp_path)
    loaded = load_learner(learn.export())
    assert torch.equal(loaded.get_preds(dl=learn.dls.valid)[0], learn.get_preds(dl=learn.dls.valid)[0])


@register_serializable
def one_feature(x: float) -> torch.Tensor:
    """One number as a one-feature tensor."""
    return torch.tensor([x])


@register_serializable
def parity(x: float) -> str:
    """Two classes: even and odd."""
    return "even" if int(x) % 2 == 0 else "odd"


def test_a_path_in_the_file_does_not_decide_where_the_learner_writes(tmp_path):
    """A planted `path` would make learn.save write elsewhere: the loaded learner writes beside its file."""
    from layered.data.blocks import CategoryBlock, TransformBlock
    from layered.data.data_block import DataBlock
    from layered.data.splitters import RandomSplitter

    set_seed(0)
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=one_feature,
        get_y=parity,
        splitter=RandomSplitter(0.5, seed=0),
    )
    dls = dblock.dataloaders([float(i) for i in range(16)], bs=4)
    learn = Learner(dls, nn.Sequential(nn.Linear(1, 2)), loss_func=CrossEntropyLossFlat(), path=tmp_path)
    config, tensors, _ = read_artifact(learn.export(), "layered-learner")
    elsewhere = tmp_path / "elsewhere"
    config["dls"]["state"]["path"] = {"$path": str(elsewhere)}
    loaded = load_learner(planted(tmp_path, config, tensors))
    assert loaded.path == tmp_path and loaded.dls.path == tmp_path
    loaded.save("w")
    assert (tmp_path / "models" / "w.safetensors").exists() and not elsewhere.exists()
