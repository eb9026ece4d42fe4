"""Log fits to MLflow: hyper-parameters, per-epoch losses and metrics, tags and the exported model (needs `mlflow`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from layered.train.callbacks.experiment import ExperimentCallback
from layered.train.extras import missing_extra

__all__ = ["MLflowCallback"]


def _client_class() -> type:
    """MLflow's `MlflowClient`, or a TrainError naming the extra that installs it."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as e:
        raise missing_extra("mlflow", "mlflow", "MLflowCallback") from e
    return MlflowClient


class MLflowCallback(ExperimentCallback):
    """Log every fit as an MLflow run in `experiment_name` (created if needed), through MLflow's client API.

    `tracking_uri` is a tracking server (`http://host:5000`) or a local store; None uses MLflow's
    default (`MLFLOW_TRACKING_URI`, else its local store in the working directory). Nothing global
    of MLflow's is changed: no active run is set. Params: `fit_params`; metrics: each epoch's
    losses and metrics with the epoch as step; artifact: `model/model.safetensors`, the learner's
    safe export (`log_model=False` leaves it out). `tags` are added to the run's.
    """

    def __init__(
        self,
        experiment_name: str = "layered",
        run_name: str | None = None,
        tracking_uri: str | None = None,
        tags: dict[str, Any] | None = None,
        log_model: bool = True,
    ):
        super().__init__(tags, log_model)
        self._client_class = _client_class()
        self.experiment_name, self.run_name, self.tracking_uri = experiment_name, run_name, tracking_uri
        self.run_id: str | None = None

    def start(self, params: dict[str, Any], tags: dict[str, str]) -> None:
        """Create the run, then log its params."""
        from mlflow.entities import Param

        self.client = self._client_class(tracking_uri=self.tracking_uri)
        experiment = self.client.get_experiment_by_name(self.experiment_name)
        experiment_id = (
            experiment.experiment_id
            if experiment is not None
            else self.client.create_experiment(self.experiment_name)
        )
        run = self.client.create_run(experiment_id, tags=tags, run_name=self.run_name)
        self.run_id = run.info.run_id
        self.client.log_batch(self.run_id, params=[Param(k, str(v)[:6000]) for k, v in params.items()])

    def log_epoch(self, values: dict[str, float], epoch: int) -> None:
        """Log the epoch's values, the epoch as their step."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, epoch) for k, v in values.items()])

    def log_model(self, file: Path) -> None:
        """Upload the export under the run's `model/` artifacts."""
        self.client.log_artifact(self.run_id, str(file), artifact_path="model")

    def finish(self, status: str) -> None:
        """Mark the run finished (or killed)."""
        self.client.set_terminated(self.run_id, status=status)
