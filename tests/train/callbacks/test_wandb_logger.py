"""WandbCallback in W&B's offline mode (no network): the run file it writes, read back record by record."""

import json
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from train_tasks import linear_task

from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.metrics.regression import rmse


def run_records(file: Path) -> list:
    """The protobuf records of a `.wandb` run file: W&B's 7-byte header, then LevelDB-style log blocks."""
    from wandb.proto import wandb_internal_pb2

    data = file.read_bytes()
    assert data[:4] == b":W&B", f"{file} is not a W&B run file"
    block, pos, parts, records = 32768, 7, b"", []
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # too little room left for a record header: the block is padded
            pos += block - pos % block
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        parts += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a whole record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            records.append(record)
            parts = b""
    return records


def _items(items) -> dict:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def test_a_fit_is_logged_offline_with_config_history_tags_and_the_model(tmp_path, monkeypatch):
    wandb = pytest.importorskip("wandb", reason="WandbCallback needs wandb: pip install layered-train[wandb]")
    from layered.train.callbacks.wandb_logger import WandbCallback

    monkeypatch.setenv("WANDB_MODE", "offline")  # and no network, ever
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    torch.manual_seed(0)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), metrics=rmse, lr=0.01, path=tmp_path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    cb = WandbCallback(project="layered-tests", name="offline-run", dir=tmp_path, tags={"purpose": "test"})
    learn.fit_one_cycle(2, 0.05, cbs=cb)
    wandb.teardown()  # W&B's service process writes the run file: stopping it flushes the file
    (file,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    records = run_records(file)
    by_kind = {}
    for r in records:
        by_kind.setdefault(r.WhichOneof("record_type"), []).append(r)
    assert "run" in by_kind, sorted(by_kind)
    (run,) = [r.run for r in by_kind["run"]]
    assert run.project == "layered-tests" and run.display_name == "offline-run"
    assert set(run.tags) == {"library=layered", "learner=Learner", "purpose=test"}
    config = _items(run.config.update)
    assert config["model"] == "Linear" and config["optimizer"] == "Adam" and config["batch_size"] == 16
    assert config["n_train"] == 64 and config["n_valid"] == 32 and config["lr"] == pytest.approx(0.05)
    assert config["schedule"].startswith("lr: ")
    history = [_items(r.history.item) for r in by_kind["history"]]
    assert [h["epoch"] for h in history] == [0, 1]
    for col, name in ((0, "train_loss"), (1, "valid_loss"), (2, "rmse")):
        assert [h[name] for h in history] == pytest.approx([v[col] for v in learn.recorder.values])
    (artifact,) = by_kind["artifact"]
    assert artifact.artifact.type == "model" and artifact.artifact.name == f"model-{run.run_id}"
    assert [e.path for e in artifact.artifact.manifest.contents] == ["model.safetensors"]
    assert by_kind["exit"][0].exit.exit_code == 0
    assert cb.run is None  # finished


def test_without_wandb_the_error_names_the_extra(monkeypatch):
    from layered.train.callbacks.wandb_logger import WandbCallback

    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(TrainError, match=r"pip install layered-train\[wandb\]"):
        WandbCallback()
