"""Checkpoints that let a crashed fit resume exactly, ending with the weights it would have had.

`CheckpointCallback` writes, every `every_n_batches` training batches and at the end of every
epoch, one file holding everything the rest of the fit depends on: the model and optimizer
states, the position (epoch, batches done in it, `train_iter`, from which the schedulers
continue), the Recorder's history and the random generators (Python, NumPy, torch, CUDA, and a
torch loader's own generator) twice: as they were when the epoch began, and as they are now.

`learn.fit(..., resume_from=file)` (and `fit_one_cycle`, ...) attaches a `ResumeCallback`,
which restores all that. To find the interrupted epoch's data order without storing it, it
puts the generators back as they were when the epoch began, so the loader draws the same
shuffle; it then pulls the batches already trained on from the loader without running the
model on them, and restores the generators as they were at the checkpoint before the next
batch is drawn. Training then goes on as if it had never stopped.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from layered.train.callback import Callback
from layered.train.distributed import barrier_distrib, rank_distrib, unwrap_model
from layered.train.errors import TrainError
from layered.train.saving.artifact import ArtifactError
from layered.train.saving.state_file import load_weights, read_state, write_state

__all__ = ["CheckpointCallback", "ResumeCallback", "load_checkpoint", "rng_states", "set_rng_states"]

FORMAT = "layered-checkpoint"
_KEYS = {"n_epoch", "n_batches", "epoch", "batches_done", "train_iter", "rng_epoch", "rng"}


def _loader_generators(dl: Any) -> list[torch.Generator]:
    """The torch generators a (torch) loader shuffles with, when it was given its own."""
    found = [getattr(dl, "generator", None), getattr(getattr(dl, "sampler", None), "generator", None)]
    unique: list[torch.Generator] = []
    for g in found:
        if isinstance(g, torch.Generator) and all(g is not u for u in unique):
            unique.append(g)
    return unique


def rng_states(dl: Any = None) -> dict[str, Any]:
    """The states of Python's, NumPy's, torch's and CUDA's generators (and `dl`'s own), as plain data."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    states = {
        "python": [version, list(internal), gauss],
        # as a tensor: torch.load(weights_only=True) refuses NumPy arrays
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "loader": [g.get_state() for g in _loader_generators(dl)],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any], dl: Any = None) -> None:
    """Put the generators (and `dl`'s own) back in the states `rng_states` returned."""
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    generators = _loader_generators(dl)
    if len(generators) != len(states["loader"]):
        raise TrainError(
            f"set_rng_states: the states hold {len(states['loader'])} loader generator(s), the loader has "
            f"{len(generators)}; resume with the loaders the checkpoint was written with"
        )
    for g, state in zip(generators, states["loader"]):
        g.set_state(state)


def _is_data(v: Any) -> bool:
    if isinstance(v, (bool, int, float, str, type(None), torch.Tensor, np.generic)):
        return True
    return isinstance(v, (list, tuple)) and all(_is_data(o) for o in v)


def _metric_state(m: Any) -> dict[str, Any]:
    """What a metric has accumulated: its attributes that are plain data (totals, counts, tensors)."""
    if hasattr(m, "flush"):  # batch values still on the device join the totals first
        m.flush()
    return {k: v for k, v in vars(m).items() if _is_data(v)}


def _phase_metrics(recorder: Any) -> list:
    """The metrics the Recorder accumulates during training."""
    return [recorder.loss, *(recorder.learn.metrics if recorder.train_metrics else [])]


def load_checkpoint(file: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by `CheckpointCallback` (a safetensors artifact: never running code from the file)."""
    file = Path(file)
    if not file.is_file():
        raise TrainError(f"resume_from: no checkpoint at {file}")
    weights, state = read_state(file, FORMAT)
    if not isinstance(state, dict) or not set(state) >= _KEYS:
        raise ArtifactError(f"resume_from: {file} lacks {sorted(_KEYS - set(state or {}))}")
    return {**state, "model": weights}


class ResumeCallback(Callback):
    """Continue the fit saved in `file` exactly where it stopped (attached by `fit(resume_from=...)`).

    The fit must be the same as the one that wrote the checkpoint: the same number of epochs,
    schedule, loaders and model.
    """

    order = 55  # after Recorder and TrainEvalCallback have reset, before ParamScheduler reads pct_train

    def __init__(self, file: str | Path):
        self.file = Path(file)
        self.state: dict[str, Any] | None = load_checkpoint(self.file)

    def before_fit(self):
        s, learn = self.state, self.learn
        n_batches = len(learn.dls.train)
        if (s["n_epoch"], s["n_batches"]) != (learn.n_epoch, n_batches):
            raise TrainError(
                f"resume_from: {self.file} was written by a fit of {s['n_epoch']} epochs of {s['n_batches']} "
                f"batches; this fit has {learn.n_epoch} epochs of {n_batches}. Resume with the same fit call"
            )
        load_weights(unwrap_model(learn.model), s["model"], self.file)
        if "opt" in s:
            learn.opt.load_state_dict(s["opt"])
        learn.epoch, learn.train_iter = s["epoch"], s["train_iter"]
        learn.pct_train = learn.train_iter / max(learn.n_train_iter, 1)
        recorder = getattr(learn, "recorder", None)
        if recorder is not None and "recorder" in s:
            rec = s["recorder"]
            for name in ("lrs", "moms", "iters", "losses", "values", "times"):
                setattr(recorder, name, list(rec.get(name, [])))
            recorder.smooth_loss.count, recorder.smooth_loss.avg = rec["smooth_loss"]

    def before_epoch(self):
        if self.state is not None:
            set_rng_states(self.state["rng_epoch"], self.learn.dls.train)

    def before_train(self):
        s = self.state
        if s is None:
            return
        recorder = getattr(self.learn, "recorder", None)
        if recorder is not None and "recorder" in s and s["batches_done"]:
            for m, saved in zip(_phase_metrics(recorder), s["recorder"]["metrics"]):
                for k, v in saved.items():
                    setattr(m, k, v)
        self.learn.dl = _ResumedLoader(self.learn.dl, s["batches_done"], s["rng"])
        self.state = None  # only the interrupted epoch is replayed


class _ResumedLoader:
    """The interrupted epoch's loader: it draws the same order, skips the batches already done, and goes on.

    `first_iter` tells the Learner which batch index the first batch it runs has.
    """

    def __init__(self, dl: Any, first_iter: int, rng: dict[str, Any]):
        self.dl, self.first_iter, self.rng = dl, first_iter, rng

    def __len__(self) -> int:
        return len(self.dl)

    def __iter__(self) -> Iterator:
        it = iter(self.dl)
        for i in range(self.first_iter):
            if next(it, _END) is _END:
                raise TrainError(
                    f"resume_from: the checkpoint was written after {self.first_iter} batches of the epoch, "
                    f"but the training loader ran out after {i}"
                )
        set_rng_states(self.rng, self.dl)
        yield from it

    def __getattr__(self, name: str) -> Any:
        if name in ("dl", "first_iter", "rng") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dl, name)


_END = object()


class CheckpointCallback(Callback):
    """Write a resumable checkpoint every `every_n_batches` training batches and after every epoch.

    The file is `learn.path / learn.model_dir / f"{fname}.safetensors"` (or `fname` itself when it has
    a suffix), replaced atomically, so a crash leaves the previous checkpoint intact. Resume
    with the same fit call plus `resume_from=learn.checkpoint.file`. Under DDP only rank 0
    writes. Not saved: the state of other callbacks (e.g. a mixed-precision grad scaler).
    """

    order = 56  # after the Recorder has recorded the batch, and after ResumeCallback restored the generators

    def __init__(self, fname: str | Path = "resume", every_n_batches: int = 50, with_opt: bool = True):
        if not isinstance(every_n_batches, int) or every_n_batches < 1:
            raise TrainError(
                f"CheckpointCallback: every_n_batches must be an integer >= 1, got {every_n_batches!r}"
            )
        self.fname, self.every_n_batches, self.with_opt = fname, every_n_batches, with_opt
        self._epoch_rng: dict[str, Any] | None = None

    @property
    def file(self) -> Path:
        """Where the checkpoint is written."""
        fname = Path(self.fname)
        return (
            fname if fname.suffix else Path(self.learn.path) / self.learn.model_dir / f"{fname}.safetensors"
        )

    def before_epoch(self):
        self._epoch_rng = rng_states(self.learn.dls.train)

    def after_batch(self):
        if self.training and self.learn.train_iter % self.every_n_batches == 0:
            self.save(self.learn.epoch, self.learn.iter + 1, self._epoch_rng)

    def after_epoch(self):
        # the next epoch starts from here: nothing of it done, its generators as they are now
        self.save(self.learn.epoch + 1, 0, rng_states(self.learn.dls.train))

    def save(self, epoch: int, batches_done: int, rng_epoch: dict[str, Any]) -> Path:
        """Write the checkpoint for a fit standing after `batches_done` batches of `epoch`; returns the file."""
        learn, file = self.learn, self.file
        if rank_distrib() == 0:
            state = {
                "n_epoch": learn.n_epoch,
                "n_batches": len(learn.dls.train),
                "epoch": epoch,
                "batches_done": batches_done,
                "train_iter": learn.train_iter,
                "rng_epoch": rng_epoch,
                "rng": rng_states(learn.dls.train),
            }
            if self.with_opt and learn.opt is not None:
                state["opt"] = learn.opt.state_dict()
            recorder = getattr(learn, "recorder", None)
            if recorder is not None:
                state["recorder"] = {
                    **{
                        k: getattr(recorder, k) for k in ("lrs", "moms", "iters", "losses", "values", "times")
                    },
                    "smooth_loss": [recorder.smooth_loss.count, recorder.smooth_loss.avg],
                    "metrics": [_metric_state(m) for m in _phase_metrics(recorder)],
                }
            write_state(file, FORMAT, unwrap_model(learn.model).state_dict(), state)
        barrier_distrib()
        return file
