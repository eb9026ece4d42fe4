"""Learner methods that hand their work to other modules: precision, summary, distribution."""

import torch
from train_tasks import class_task, mlp

from layered.train.callbacks.mixed_precision import MixedPrecision
from layered.train.learner import Learner


def make_learner():
    return Learner(class_task(), mlp(), loss_func=torch.nn.CrossEntropyLoss(), default_cbs=False)


def test_to_bf16_adds_mixed_precision_and_to_fp32_removes_it():
    learn = make_learner()
    assert learn.to_bf16() is learn
    assert [type(c) for c in learn.cbs if isinstance(c, MixedPrecision)] == [MixedPrecision]
    assert learn.mixed_precision.amp_mode == "bf16"
    learn.to_fp32()
    assert not any(isinstance(c, MixedPrecision) for c in learn.cbs)


def test_summary_counts_every_parameter():
    learn = make_learner()
    text = learn.summary()
    total = sum(p.numel() for p in learn.model.parameters())
    assert f"{total:,}" in text and "Linear" in text


def test_distrib_ctx_changes_nothing_in_one_process():
    learn = make_learner()
    model = learn.model
    with learn.distrib_ctx():
        learn.fit(1)
    assert learn.model is model
