"""Callbacks: objects that read and change the Learner at every step of training.

The training loop never changes; everything else is a callback. At each event the Learner
calls the method of that name on every callback, in order. A callback reads anything on the
learner through `self.<name>` (reads are forwarded to `self.learn`) and changes it by assigning
to `self.learn.<name>`. It steers control flow by raising one of the `Cancel*Exception`s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from layered.train.errors import TrainError

__all__ = [
    "EVENTS",
    "Callback",
    "CallbackOrderError",
    "CancelBackwardException",
    "CancelBatchException",
    "CancelEpochException",
    "CancelFitException",
    "CancelStepException",
    "CancelTrainException",
    "CancelValidException",
    "event_handlers",
    "sort_callbacks",
]

EVENTS = (
    "after_create",
    "before_fit",
    "before_epoch",
    "before_train",
    "before_batch",
    "after_pred",
    "after_loss",
    "before_backward",
    "after_cancel_backward",
    "after_backward",
    "before_step",
    "after_cancel_step",
    "after_step",
    "after_cancel_batch",
    "after_batch",
    "after_cancel_train",
    "after_train",
    "before_validate",
    "after_cancel_validate",
    "after_validate",
    "after_cancel_epoch",
    "after_epoch",
    "after_cancel_fit",
    "after_fit",
)


class CancelFitException(Exception):
    """Raised by a callback to stop training; `after_cancel_fit` then `after_fit` run."""


class CancelEpochException(Exception):
    """Raised by a callback to skip the rest of the current epoch."""


class CancelTrainException(Exception):
    """Raised by a callback to skip the rest of the training phase of this epoch."""


class CancelValidException(Exception):
    """Raised by a callback to skip the rest of the validation phase."""


class CancelBatchException(Exception):
    """Raised by a callback to skip the rest of the current batch (nothing is recorded for it)."""


class CancelBackwardException(Exception):
    """Raised by a callback to skip the backward pass of the current batch."""


class CancelStepException(Exception):
    """Raised by a callback to skip the optimizer step of the current batch."""


class CallbackOrderError(TrainError):
    """The callbacks' declared ordering constraints or conflicts cannot be satisfied."""


def _snake(name: str) -> str:
    """`ReduceLROnPlateau` → `reduce_lr_on_plateau`, `CSVLogger` → `csv_logger`, `TerminateOnNaN` → `terminate_on_nan`."""
    name = name.replace("NaN", "Nan")
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)  # an acronym ends where a word starts
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class Callback:
    """Base class of callbacks.

    Class attributes a subclass may set:
    - `order`: lower runs first (ties keep insertion order);
    - `run_train` / `run_valid`: whether to run during training / validation;
    - `run_before` / `run_after`: callback classes (or names) that must run after / before this one;
    - `conflicts`: callback classes (or names) that cannot be used together with this one;
    - `for_inference`: prediction needs it, so `export` keeps it (its class is called with no arguments).
    """

    order: int = 0
    run_train: bool = True
    run_valid: bool = True
    run_before: tuple = ()
    run_after: tuple = ()
    conflicts: tuple = ()
    for_inference: bool = (
        False  # exported with the learner (made afresh by calling the class with no arguments)
    )
    learn = None

    @property
    def name(self) -> str:
        """Attribute name under which the Learner exposes this callback (`Recorder` → `recorder`)."""
        cls = type(self).__name__
        return _snake(cls[: -len("Callback")] if cls.endswith("Callback") and cls != "Callback" else cls)

    def __getattr__(self, name: str):
        # Reads of unknown attributes come from the learner: `self.loss`, `self.model`, ...
        if name.startswith("__") or name == "learn":
            raise AttributeError(name)
        learn = self.__dict__.get("learn", type(self).learn)
        if learn is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r} (and no learner yet)")
        return getattr(learn, name)

    def __call__(self, event: str) -> None:
        """Run the method for `event`, if this callback has one and should run in this phase."""
        method = getattr(type(self), event, None)
        if method is None:
            return
        training = getattr(self.learn, "training", True)
        if (training and self.run_train) or (not training and self.run_valid) or event in _ALWAYS:
            method(self)

    def __repr__(self) -> str:
        return type(self).__name__


# Events that frame a phase run whatever run_train/run_valid say.
_ALWAYS = {"after_create", "before_fit", "after_fit", "after_cancel_fit", "before_epoch", "after_epoch"}


def event_handlers(cbs: Iterable[Callback], event: str) -> tuple[bool, list[tuple[Callback, Any]]]:
    """What running `event` on `cbs` calls, resolved once so a loop can reuse it.

    Returns whether the event runs whatever `run_train`/`run_valid` say (it frames a phase), and
    the callbacks that do anything at it, each with its method for it (the class's function), or
    with None for a callback that has its own `__call__` (called then with the event's name).
    """
    handlers = []
    for cb in cbs:
        cls = type(cb)
        if cls.__call__ is not Callback.__call__:
            handlers.append((cb, None))
        elif getattr(cls, event, None) is not None:
            handlers.append((cb, getattr(cls, event)))
    return event in _ALWAYS, handlers


def _matches(cb: Callback, ref) -> bool:
    return isinstance(cb, ref) if isinstance(ref, type) else ref in (type(cb).__name__, cb.name)


def sort_callbacks(cbs: Iterable[Callback]) -> list[Callback]:
    """Order callbacks by `order`, then satisfy `run_before` / `run_after`; reject conflicts and cycles."""
    cbs = sorted(cbs, key=lambda c: c.order)
    for a in cbs:
        for b in cbs:
            if a is not b and any(_matches(b, ref) for ref in a.conflicts):
                raise CallbackOrderError(f"{a!r} conflicts with {b!r}: they cannot be used together")
    after = {id(c): set() for c in cbs}  # id(c) -> ids of the callbacks that must run before c
    for a in cbs:
        for b in cbs:
            if a is b:
                continue
            if any(_matches(b, r) for r in a.run_before) or any(_matches(a, r) for r in b.run_after):
                after[id(b)].add(id(a))
    ordered, placed = [], set()
    while len(ordered) < len(cbs):
        ready = [c for c in cbs if id(c) not in placed and after[id(c)] <= placed]
        if not ready:
            stuck = [c for c in cbs if id(c) not in placed]
            pairs = [f"{c!r} after {[b for b in cbs if id(b) in after[id(c)] - placed]}" for c in stuck]
            raise CallbackOrderError(f"callback ordering has a cycle: {'; '.join(pairs)}")
        ordered.append(ready[0])
        placed.add(id(ready[0]))
    return ordered
