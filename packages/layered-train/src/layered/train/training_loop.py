"""The training loop as text: which callbacks run at each event, in the order they run."""

from __future__ import annotations

from typing import Any

from layered.train.callback import event_handlers

__all__ = ["loop_callbacks", "show_training_loop"]

# (depth, event) in the order `Learner.fit` calls them; a "#" entry titles the block under it
_LOOP = (
    (0, "# fit"),
    (0, "before_fit"),
    (1, "# each epoch"),
    (1, "before_epoch"),
    (2, "# training"),
    (2, "before_train"),
    (3, "# each training batch"),
    (3, "before_batch"),
    (3, "after_pred"),
    (3, "after_loss"),
    (3, "before_backward"),
    (3, "after_cancel_backward"),
    (3, "after_backward"),
    (3, "before_step"),
    (3, "after_cancel_step"),
    (3, "after_step"),
    (3, "after_cancel_batch"),
    (3, "after_batch"),
    (2, "after_cancel_train"),
    (2, "after_train"),
    (2, "# validation"),
    (2, "before_validate"),
    (3, "# each validation batch"),
    (3, "before_batch"),
    (3, "after_pred"),
    (3, "after_loss"),
    (3, "after_cancel_batch"),
    (3, "after_batch"),
    (2, "after_cancel_validate"),
    (2, "after_validate"),
    (1, "after_cancel_epoch"),
    (1, "after_epoch"),
    (0, "after_cancel_fit"),
    (0, "after_fit"),
)


def loop_callbacks(learn: Any) -> list[tuple[int, str, list[str]]]:
    """`(depth, event, callback names)` for every event of a fit, in order; each list in the order the callbacks run.

    A callback is listed at an event when it has a method for it (or its own `__call__`) and runs
    in that phase (`run_train`, `run_valid`); validation lists only the events it reaches.
    """
    out, training = [], True
    for depth, event in _LOOP:
        if event.startswith("#"):
            training = {"# training": True, "# validation": False}.get(event, training)
            continue
        always, handlers = event_handlers(learn.cbs, event)
        names = [repr(cb) for cb, _ in handlers if always or (cb.run_train if training else cb.run_valid)]
        out.append((depth, event, names))
        if event == "after_validate":
            training = True
    return out


def show_training_loop(learn: Any) -> str:
    """Print, and return, the training loop with the callbacks each event runs (events that run none are left out)."""
    runs = iter(loop_callbacks(learn))
    lines = []
    for depth, event in _LOOP:
        indent = "  " * depth
        if event.startswith("#"):
            lines.append(f"{indent}{event[2:]}:")
            continue
        _, _, names = next(runs)
        if names:
            lines.append(f"{indent}  {event}: {', '.join(names)}")
    text = "\n".join(lines)
    print(text)
    return text
