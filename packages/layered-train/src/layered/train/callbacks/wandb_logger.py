"""Log fits to Weights & Biases: hyper-parameters, per-epoch losses and metrics, tags and the exported model (needs `wandb`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layered.train.callbacks.experiment import ExperimentCallback
from layered.train.extras import missing_extra

__all__ = ["WandbCallback"]


def _wandb() -> Any:
    """The `wandb` module, or a TrainError naming the extra that installs it."""
    try:
        import wandb
    except ImportError as e:
        raise missing_extra("wandb", "wandb", "WandbCallback") from e
    return wandb


class WandbCallback(ExperimentCallback):
    """Log every fit as a W&B run of `project`: config, per-epoch values, tags and the model artifact.

    `mode` is W&B's ("online", "offline", "disabled"; None: `WANDB_MODE` or W&B's default) and
    `dir` where its files go. The config holds `fit_params`; each epoch's losses and metrics are
    logged with an `epoch` field (and end in the run's summary); the learner's safe export is
    logged as a `model` artifact (`log_model=False` leaves it out). `tags` (a dict) become W&B
    tags `key=value`.
    """

    def __init__(
        self,
        project: str = "layered",
        name: str | None = None,
        dir: str | Path | None = None,
        mode: str | None = None,
        tags: dict[str, Any] | None = None,
        log_model: bool = True,
    ):
        super().__init__(tags, log_model)
        self._wandb = _wandb()
        self.project, self.run_name, self.dir, self.mode = project, name, dir, mode
        self.run = None

    def start(self, params: dict[str, Any], tags: dict[str, str]) -> None:
        """Start the run with the params as its config."""
        self.run = self._wandb.init(
            project=self.project,
            name=self.run_name,
            dir=None if self.dir is None else str(self.dir),
            mode=self.mode,
            config=params,
            tags=[f"{k}={v}"[:64] for k, v in tags.items()],
            reinit="create_new",
        )

    def log_epoch(self, values: dict[str, float], epoch: int) -> None:
        """Log the epoch's values with its number."""
        self.run.log({**values, "epoch": epoch})

    def log_model(self, file: Path) -> None:
        """Log the export as a `model` artifact."""
        artifact = self._wandb.Artifact(name=f"model-{self.run.id}", type="model")
        artifact.add_file(str(file), name=file.name)
        self.run.log_artifact(artifact)

    def finish(self, status: str) -> None:
        """Finish the run (exit code 1 when the fit was cancelled)."""
        self.run.finish(exit_code=0 if status == "FINISHED" else 1)
        self.run = None
