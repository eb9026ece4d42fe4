"""Schedules beyond 1cycle, fine_tune, predict/show_results through a layered data pipeline, plots."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from train_tasks import class_task, mlp

from layered.core.seed import set_seed
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.metrics.classification import accuracy

G = torch.Generator().manual_seed(0)
LABELS = torch.randint(0, 3, (300,), generator=G)
POINTS = torch.randn(300, 2, generator=G) * 0.3 + torch.stack([LABELS.float(), (LABELS == 1).float()], 1) * 2


def get_point(i):
    return POINTS[i]


def get_name(i):
    return ["red", "green", "blue"][int(LABELS[i])]


def quiet(learn):
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def block_learner():
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=get_point,
        get_y=get_name,
        splitter=RandomSplitter(0.2, seed=0),
    )
    dls = dblock.dataloaders(list(range(300)), bs=32)
    return quiet(Learner(dls, mlp(2, 3), metrics=accuracy))


def test_loss_is_inferred_from_the_target_block_and_predict_decodes():
    set_seed(0)
    learn = block_learner()
    assert isinstance(learn.loss_func, CrossEntropyLossFlat)
    learn.fit_one_cycle(4, 1e-2)
    assert learn.recorder.final_record[-1] > 0.9  # accuracy
    label, index, probs = learn.predict(5)
    assert label == get_name(5)
    assert int(index) == ["blue", "green", "red"].index(label)  # vocab is sorted
    assert probs.shape == (3,) and float(probs.sum()) == pytest.approx(1.0, abs=1e-5)
    # an item whose input holds NaN is refused, not given a confident class
    kept = POINTS[7].clone()
    POINTS[7, 0] = float("nan")
    try:
        with pytest.raises(TrainError, match=r"input 0 made from the item 7 holds non-finite values"):
            learn.predict(7)
    finally:
        POINTS[7] = kept


def test_show_results_and_plots(tmp_path):
    import matplotlib.pyplot as plt

    set_seed(1)
    learn = block_learner()
    learn.fit(1, 1e-2)
    frame = learn.show_results(max_n=4)
    assert len(frame) == 4 and {"item_1", "pred_0"} <= set(frame.columns)
    learn.recorder.plot_loss()
    plt.savefig(tmp_path / "loss.png")
    learn.recorder.plot_sched()
    plt.savefig(tmp_path / "sched.png")
    plt.close("all")
    assert (tmp_path / "loss.png").stat().st_size > 1000


def test_flat_cos_sgdr_and_fine_tune_schedules():
    learn = quiet(Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat()))
    learn.fit_flat_cos(2, lr=1e-2, pct_start=0.5)
    lrs = np.array(learn.recorder.lrs)
    half = len(lrs) // 2
    assert np.allclose(lrs[:half], 1e-2) and lrs[-1] < 1e-3

    learn.fit_sgdr(2, 1, lr_max=1e-2)  # cycles of 1 and 2 epochs
    lrs = np.array(learn.recorder.lrs)
    n = len(lrs) // 3
    assert lrs[0] == pytest.approx(1e-2) and lrs[n] == pytest.approx(1e-2) and lrs[n - 1] < 1e-3

    def two_groups(model):
        return [list(model[:2].parameters()), list(model[2:].parameters())]

    tuned = quiet(Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), splitter=two_groups))
    body = tuned.model[0].weight.detach().clone()
    tuned.fine_tune(1, base_lr=1e-2, freeze_epochs=1)
    assert not torch.equal(body, tuned.model[0].weight)  # unfrozen for the second stage
    lrs = tuned.opt.hypers
    assert lrs[0]["lr"] < lrs[1]["lr"]  # discriminative rates in the last stage
