"""GradualUnfreezing: the last group trains first, one more group thaws each `every` of the run."""

import pytest
import torch
from torch import nn
from train_tasks import class_task, quiet

from layered.train.callback import Callback
from layered.train.callbacks.gradual_unfreezing import GradualUnfreezing
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat


def three_groups(model):
    return [list(model[0].parameters()), list(model[2].parameters()), list(model[4].parameters())]


class Trainable(Callback):
    """Record, for every training batch, which of the model's three linear layers may learn."""

    order = 70  # after GradualUnfreezing has set this batch's groups

    def __init__(self):
        self.seen = []

    def before_batch(self):
        if self.learn.training:
            self.seen.append(tuple(self.learn.model[i].weight.requires_grad for i in (0, 2, 4)))


def learner():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    return quiet(Learner(class_task(), model, loss_func=CrossEntropyLossFlat(), splitter=three_groups))


def test_groups_thaw_from_the_head_one_every_fraction_of_the_run():
    learn = learner()  # 384 training items in batches of 64: 6 batches an epoch, 12 in the run
    first = learn.model[0].weight.detach().clone()
    seen = Trainable()
    learn.fit_one_cycle(2, 1e-2, cbs=[GradualUnfreezing(every=0.25), seen])
    head, head_and_middle, everything = (False, False, True), (False, True, True), (True, True, True)
    # progress 0, 1/12, 2/12 < 0.25; 3/12 .. 5/12 < 0.5; from 6/12 on every group
    assert seen.seen == [head] * 3 + [head_and_middle] * 3 + [everything] * 6
    assert not torch.equal(learn.model[0].weight, first)  # the first layer learned once thawed
    # the head's optimizer state survived the thawing: its step count is every batch of the run
    assert learn.opt.state[learn.model[4].weight]["step"] == 12
    assert learn.opt.state[learn.model[0].weight]["step"] == 6


def test_a_frozen_group_does_not_move_until_its_turn():
    learn = learner()
    first = learn.model[0].weight.detach().clone()
    # every=0.6: the head alone for 60% of a 6-batch run, then two groups; the first never thaws
    learn.fit(1, 1e-2, cbs=GradualUnfreezing(every=0.6))
    assert torch.equal(learn.model[0].weight, first)
    assert not learn.model[0].weight.requires_grad and learn.model[2].weight.requires_grad


@pytest.mark.parametrize("every", [0, 1.5, -0.1, True, "0.1"])
def test_every_outside_the_run_is_refused(every):
    with pytest.raises(TrainError, match=r"every must be a fraction of the run in \(0, 1\], got"):
        GradualUnfreezing(every=every)
