"""MLflowCallback against a real MLflow tracking server on 127.0.0.1, and MLflow's default local store."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import torch
from torch import nn
from train_tasks import linear_task

from layered.train.errors import TrainError
from layered.train.learner import Learner, load_learner
from layered.train.losses.flattened import MSELossFlat
from layered.train.metrics.regression import rmse


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    """`mlflow server` on a free port of 127.0.0.1 with a tmp store; its URI; stopped after the tests."""
    pytest.importorskip("mlflow", reason="MLflowCallback needs mlflow: pip install layered-train[mlflow]")
    folder, port = tmp_path_factory.mktemp("mlflow-server"), _free_port()
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{folder / 'store.db'}", "--artifacts-destination", str(folder / "artifacts"),
    ]  # fmt: skip
    with open(folder / "server.log", "wb") as log:  # the server has its own copy of the descriptor
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"mlflow server did not start: {(folder / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server's own session: it and its workers
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def fitted(tmp_path, cb, epochs=2):
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    torch.manual_seed(0)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), metrics=rmse, lr=0.01, path=tmp_path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    learn.fit_one_cycle(epochs, 0.05, cbs=cb)
    return learn


def assert_run(client, run, learn, tmp_path):
    """What the callback logged of `learn`'s fit, read back through MLflow's client API."""
    from mlflow.artifacts import download_artifacts

    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["model"] == "Linear" and params["optimizer"] == "Adam" and params["batch_size"] == "16"
    assert params["n_train"] == "64" and params["n_valid"] == "32" and params["n_epoch"] == "2"
    assert float(params["lr"]) == pytest.approx(0.05) and params["schedule"].startswith("lr: ")
    assert params["loss_func"] == "MSELossFlat" and params["metrics"] == "rmse"
    assert run.data.tags["purpose"] == "test" and run.data.tags["library"] == "layered"
    for col, name in ((0, "train_loss"), (1, "valid_loss"), (2, "rmse")):
        history = client.get_metric_history(run.info.run_id, name)
        assert [m.step for m in sorted(history, key=lambda m: m.step)] == [0, 1]
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
            [v[col] for v in learn.recorder.values]
        )
    assert [a.path for a in client.list_artifacts(run.info.run_id, "model")] == ["model/model.safetensors"]
    local = download_artifacts(run_id=run.info.run_id, artifact_path="model/model.safetensors",
                               dst_path=str(tmp_path / "download"), tracking_uri=client.tracking_uri)  # fmt: skip
    loaded = load_learner(local)  # the safe export: registered components only
    x = torch.randn(5, 4)
    assert torch.allclose(loaded.model(x), learn.model.cpu().eval()(x), atol=1e-6)


@pytest.mark.slow  # starting the server takes 15-20 s on two shared cores
def test_a_fit_is_logged_to_a_tracking_server(tracking_server, tmp_path):
    from mlflow.tracking import MlflowClient

    from layered.train.callbacks.mlflow_logger import MLflowCallback

    cb = MLflowCallback(
        "layered-tests", run_name="server-run", tracking_uri=tracking_server, tags={"purpose": "test"}
    )
    learn = fitted(tmp_path, cb)
    client = MlflowClient(tracking_uri=tracking_server)
    experiment = client.get_experiment_by_name("layered-tests")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "server-run" and run.info.run_id == cb.run_id
    assert_run(client, run, learn, tmp_path)


def test_a_fit_is_logged_to_the_default_local_store(tmp_path, monkeypatch):
    pytest.importorskip("mlflow", reason="MLflowCallback needs mlflow: pip install layered-train[mlflow]")
    from mlflow.tracking import MlflowClient

    from layered.train.callbacks.mlflow_logger import MLflowCallback

    monkeypatch.chdir(tmp_path)  # MLflow's default store lives in the working directory
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    learn = fitted(tmp_path, MLflowCallback(tags={"purpose": "test"}))
    client = MlflowClient()
    (run,) = client.search_runs([client.get_experiment_by_name("layered").experiment_id])
    assert_run(client, run, learn, tmp_path)
    assert any(p.name != "download" for p in tmp_path.iterdir())  # the store was written here


def test_without_mlflow_the_error_names_the_extra(monkeypatch):
    from layered.train.callbacks.mlflow_logger import MLflowCallback

    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(TrainError, match=r"pip install layered-train\[mlflow\]"):
        MLflowCallback()
