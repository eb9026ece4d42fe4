"""Tests of callback."""

import pytest
from train_tasks import event_log, linear_learner

from layered.train.callback import (
    Callback,
    CallbackOrderError,
    event_handlers,
)


def test_event_handlers_resolve_methods_and_own_calls_once():
    class Batchy(Callback):
        def after_batch(self):
            pass

    batchy, log = Batchy(), event_log()
    always, handlers = event_handlers([batchy, log], "after_batch")
    assert not always and handlers == [(batchy, Batchy.after_batch), (log, None)]
    always, handlers = event_handlers([batchy], "after_epoch")  # frames a phase; nothing to call
    assert always and handlers == []


def test_callback_constraints_order_and_conflicts():
    class A(Callback):
        order = 5

    class B(Callback):
        order = 0
        run_after = (A,)

    learn, _ = linear_learner(cbs=[B(), A()])
    names = [type(c).__name__ for c in learn.cbs]
    assert names.index("A") < names.index("B")

    class C(Callback):
        run_before = ("D",)

    class D(Callback):
        run_before = (C,)

    with pytest.raises(CallbackOrderError, match=r"cycle.*(C|D)"):
        linear_learner(cbs=[C(), D()])

    class E(Callback):
        conflicts = ("F",)

    class F(Callback):
        pass

    with pytest.raises(CallbackOrderError, match="E conflicts with F"):
        linear_learner(cbs=[E(), F()])
