"""layered-train: Learner, callbacks, optimizers, schedules, metrics, losses and layers."""

__version__ = "0.1.0"

__all__ = ["__version__"]
