"""Progress bars for epochs and batches, and the live table of results (console and notebook)."""

from __future__ import annotations

from layered.train.callback import Callback
from layered.train.errors import TrainError

__all__ = ["ProgressCallback"]


class ProgressCallback(Callback):
    """Show a bar over epochs, a bar over batches and a table of each epoch's results.

    Remove it (`learn.remove_cb(ProgressCallback)`, or `with learn.no_bar():`) to train silently;
    the table rows then go to `learn.logger` (print by default). The smoothed loss beside the bar
    is read every `every` training batches and at the end of training: reading it waits for the
    device, which the batches in between never do.
    """

    order = 60

    def __init__(self, every: int = 100):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise TrainError(f"ProgressCallback: every must be an int >= 1 (batches), got {every!r}")
        self.every = every

    def before_fit(self):
        # fastprogress takes a fifth of a second to import: it loads with the first fit, not the library
        from fastprogress.fastprogress import master_bar

        self.first_epoch = self.learn.epoch  # a resumed fit starts past 0; the bar counts from there
        self.mbar = master_bar(range(self.first_epoch, self.n_epoch))
        self._old_logger, self.learn.logger = self.learn.logger, self._write
        self.mbar.on_iter_begin()

    def _write(self, row: list):
        self.mbar.write([f"{v:.6f}" if isinstance(v, float) else str(v) for v in row], table=True)

    def before_epoch(self):
        self.mbar.update(self.learn.epoch - self.first_epoch)

    def before_train(self):
        self._launch()

    def before_validate(self):
        self._launch()

    def _launch(self):
        from fastprogress.fastprogress import progress_bar  # loaded by before_fit: a dictionary look-up here

        self.pbar = progress_bar(self.dl, parent=self.mbar, leave=False)
        self.pbar.update(0)

    def after_batch(self):
        learn = self.learn  # read directly: this runs every batch
        if learn.training and (learn.iter + 1) % self.every == 0:
            self.pbar.comment = f"{learn.smooth_loss:.4f}"
        self.pbar.update(learn.iter + 1)

    def after_train(self):
        self.pbar.comment = f"{self.learn.smooth_loss:.4f}"
        self.pbar.on_iter_end()

    def after_validate(self):
        self.pbar.on_iter_end()

    def after_fit(self):
        if getattr(self, "mbar", None) is not None:
            self.mbar.on_iter_end()
            del self.mbar
        if hasattr(self, "_old_logger"):
            self.learn.logger = self._old_logger
            del self._old_logger
