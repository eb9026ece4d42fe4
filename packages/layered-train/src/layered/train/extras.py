"""Optional extras of layered-train (onnx, mlflow, wandb, tensorboard): the error naming the one to install."""

from __future__ import annotations

from layered.train.errors import TrainError

__all__ = ["missing_extra"]


def missing_extra(package: str, extra: str, feature: str) -> TrainError:
    """A `TrainError` saying that `feature` needs `package`, and which extra of layered-train installs it."""
    return TrainError(
        f"{feature} needs the '{package}' package, which is not installed: "
        f"pip install layered-train[{extra}]  (or pip install {package})"
    )
