"""A live plot of the training and validation losses, redrawn after every epoch."""

from __future__ import annotations

import importlib
import io
from pathlib import Path

from layered.core.atomic import atomic_write
from layered.train.callback import Callback

__all__ = ["ShowGraph"]


def _notebook_display():
    """The `IPython.display` module when running in a Jupyter kernel, else None (console or script)."""
    from fastprogress.core import in_notebook  # fastprogress is slow to import: only when a graph is drawn

    if not in_notebook():
        return None
    # a kernel always has IPython, so the library need not depend on it
    return importlib.import_module("IPython.display")


def _write_bytes_atomically(data: bytes, file: Path) -> None:
    """Write `data` to a temporary file beside `file`, sync it, then rename it over `file`."""
    with atomic_write(file) as f:
        f.write(data)


class ShowGraph(Callback):
    """After each epoch, plot the smoothed training loss per batch and the validation loss per epoch.

    In a Jupyter notebook the figure is updated in place under the progress bar; elsewhere it is
    saved (atomically) as the PNG `learn.path/fname`, which an image viewer can keep open.
    """

    # after the Recorder (50) has the epoch's values; before trackers (60+) that may stop the fit
    order = 55
    run_valid = False

    def __init__(self, fname: str = "loss_graph.png"):
        self.fname = fname

    def before_fit(self):
        self._display, self._handle = _notebook_display(), None
        self.n_batches = len(self.learn.dls.train)
        self.total = self.learn.n_epoch * self.n_batches

    def figure(self):
        """The loss plot of the fit so far, as a matplotlib Figure."""
        from matplotlib.figure import Figure

        rec = self.learn.recorder
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        ax.plot(rec.iters, rec.losses, label="train")
        names = rec.value_names
        if "valid_loss" in names and rec.values:
            first = self.learn.epoch + 1 - len(rec.values)
            ends = [(first + i + 1) * self.n_batches for i in range(len(rec.values))]
            ax.plot(ends, [v[names.index("valid_loss")] for v in rec.values], marker="o", label="valid")
        ax.set_xlim(0, max(self.total, 1))
        ax.set_xlabel("iteration")
        ax.set_ylabel("loss")
        ax.legend()
        return fig

    def after_epoch(self):
        buf = io.BytesIO()
        self.figure().savefig(buf, format="png")
        png = buf.getvalue()
        if self._display is None:
            _write_bytes_atomically(png, Path(self.learn.path) / self.fname)
            return
        image = self._display.Image(data=png)
        if self._handle is None:
            self._handle = self._display.display(image, display_id=True)
        else:
            self._handle.update(image)
