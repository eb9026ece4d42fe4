"""The default loss: one registry keyed by target type, the data's own loss first."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn
from train_tasks import linear_task

from layered.data.categorize import TensorCategory, TensorMultiCategory, TensorRegression
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.default import default_loss, register_default_loss, target_type
from layered.train.losses.flattened import (
    BCEWithLogitsLossFlat,
    CrossEntropyLossFlat,
    L1LossFlat,
    MSELossFlat,
)


def data(*item, n_inp=1, **loader_attrs):
    """A stand-in for DataLoaders whose training set holds one item."""
    train = SimpleNamespace(dataset=[item], **loader_attrs)
    return SimpleNamespace(train=train, n_inp=n_inp)


class Ordinal(TensorRegression):
    """A target type of a test's own, registered below."""


def test_the_registered_loss_follows_the_type_of_the_first_target():
    x = torch.zeros(3)
    assert isinstance(default_loss(data(x, TensorCategory(1))), CrossEntropyLossFlat)
    assert isinstance(default_loss(data(x, TensorMultiCategory([0, 1]))), BCEWithLogitsLossFlat)
    assert isinstance(default_loss(data(x, TensorRegression([0.5]))), MSELossFlat)
    assert default_loss(data(x, torch.tensor(1))) is None  # a plain tensor says nothing
    assert default_loss(data(x)) is None  # no target at all
    assert target_type(data(x, x, TensorCategory(0), n_inp=2)) is TensorCategory


def test_a_declared_target_type_and_the_datas_own_loss_come_first():
    x = torch.zeros(3)
    assert target_type(data(x, x, target_type=TensorCategory)) is TensorCategory
    chosen = L1LossFlat()
    dls = data(x, TensorCategory(1))
    dls.loss_func = chosen
    assert default_loss(dls) is chosen


def test_registering_a_type_makes_it_and_its_subclasses_use_that_loss():
    register_default_loss(Ordinal, L1LossFlat)
    try:
        assert isinstance(default_loss(data(torch.zeros(1), Ordinal([2.0]))), L1LossFlat)
    finally:
        from layered.train.losses import default

        del default._REGISTRY[Ordinal]
    assert isinstance(default_loss(data(torch.zeros(1), Ordinal([2.0]))), MSELossFlat)  # its base's
    with pytest.raises(TypeError, match="needs a type and a callable"):
        register_default_loss("Ordinal", L1LossFlat)


def test_the_learner_asks_the_registry_and_names_the_type_it_could_not_place():
    dls, _ = linear_task()
    with pytest.raises(TrainError, match="targets of type Tensor, for which no default loss is registered"):
        Learner(dls, nn.Linear(4, 1))
    dls.loss_func = MSELossFlat()
    assert Learner(dls, nn.Linear(4, 1)).loss_func is dls.loss_func
