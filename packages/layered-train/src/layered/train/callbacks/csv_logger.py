"""Log each epoch's results to a CSV file that survives crashes and restarts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from layered.core.atomic import atomic_write
from layered.train.callback import Callback
from layered.train.errors import TrainError

__all__ = ["CSVLogger"]


def _csv_line(row: list) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _write_atomically(text: str, file: Path) -> None:
    """Write `text` to a temporary file beside `file`, sync it, then rename it over `file`."""
    with atomic_write(file, "w", newline="") as f:
        f.write(text)


class CSVLogger(Callback):
    """Write the Recorder's columns (`epoch`, losses, metrics, time) to `learn.path/fname`, a row per epoch.

    The file is rewritten atomically after every epoch, so a crash leaves every finished epoch on
    disk and never half a row. With `append=True` a fit adds its rows to an existing file (a
    restarted run continues the same log; the header is written once and must match); otherwise
    each fit starts the file afresh.
    """

    # after the Recorder (50) has the epoch's values; before trackers (60+) that may stop the fit
    order = 55

    def __init__(self, fname: str | Path = "history.csv", append: bool = False):
        self.fname, self.append = Path(fname), append

    @property
    def file(self) -> Path:
        """The CSV file: `fname` under the learner's path (or `fname` itself if absolute)."""
        return Path(self.learn.path) / self.fname

    def before_fit(self):
        header = _csv_line(self.learn.recorder.metric_names)
        file = self.file
        old = file.read_text() if self.append and file.exists() else ""
        if old:
            found = old.splitlines()[0] + "\n"
            if found != header:
                raise TrainError(
                    f"CSVLogger: cannot append to {file}: its header is {found.strip()!r} but this fit "
                    f"records {header.strip()!r}; use another fname or append=False"
                )
            self._text = old if old.endswith("\n") else old + "\n"
        else:
            self._text = header
        _write_atomically(self._text, file)

    def after_epoch(self):
        recorder = self.learn.recorder
        elapsed = recorder.log[-1:] if recorder.add_time else []  # the time as the table shows it
        self._text += _csv_line([self.learn.epoch, *recorder.values[-1], *elapsed])
        _write_atomically(self._text, self.file)
