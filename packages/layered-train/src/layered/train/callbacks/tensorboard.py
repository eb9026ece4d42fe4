"""Log training to TensorBoard through `torch.utils.tensorboard` (needs the `tensorboard` package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from layered.train.callback import Callback
from layered.train.extras import missing_extra

__all__ = ["TensorBoardCallback"]


def _summary_writer_class() -> type:
    """torch's SummaryWriter, or a TrainError saying how to install what it needs."""
    if importlib.util.find_spec("tensorboard") is None:
        raise missing_extra("tensorboard", "tensorboard", "TensorBoardCallback")
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter


class TensorBoardCallback(Callback):
    """Write the training loss and hyper-parameters per batch and every recorded value per epoch.

    Logs go to `log_dir` (default `learn.path/'runs'`); view them with `tensorboard --logdir ...`.
    Scalars: `train/loss` and `train/smooth_loss` per batch, `hypers/<name>_<group>` (lr, mom,
    ...) per batch, `epoch/<column>` per epoch for each Recorder column. With `trace_model=True`
    the model's graph is traced on the first training batch.
    """

    # after the Recorder (50) has the epoch's values; before trackers (60+) that may stop the fit
    order = 55
    run_valid = False

    def __init__(self, log_dir: str | Path | None = None, trace_model: bool = False):
        self._writer_class = _summary_writer_class()
        self.log_dir, self.trace_model = log_dir, trace_model
        self.writer = None

    def before_fit(self):
        log_dir = self.log_dir if self.log_dir is not None else Path(self.learn.path) / "runs"
        self.writer = self._writer_class(log_dir=str(log_dir))
        self._traced = not self.trace_model

    def before_batch(self):
        if not self._traced:
            self._traced = True
            self.writer.add_graph(self.learn.model, self.learn.xb)

    def after_batch(self):
        step = self.learn.train_iter
        if self.learn.loss is not None:
            self.writer.add_scalar("train/loss", float(self.learn.loss), step)
            self.writer.add_scalar("train/smooth_loss", float(self.learn.smooth_loss), step)
        for i, hypers in enumerate(self.learn.opt.hypers):
            for name, value in hypers.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.writer.add_scalar(f"hypers/{name}_{i}", value, step)

    def after_epoch(self):
        rec = self.learn.recorder
        for name, value in zip(rec.value_names, rec.values[-1]):
            if isinstance(value, (int, float)):
                self.writer.add_scalar(f"epoch/{name}", value, self.learn.epoch)
        self.writer.flush()

    def after_fit(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
