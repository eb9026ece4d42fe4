"""Model-state files: weights and plain state round-trip; a file of another model is named with what does not fit."""

import pytest
import torch
from torch import nn

from layered.core.errors import LayeredError
from layered.train.saving.artifact import ArtifactError
from layered.train.saving.state_file import load_weights, read_state, write_state


def test_weights_and_extra_state_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    extra = {
        "opt": {"hypers": [{"lr": 0.1, "betas": (0.9, 0.99)}], "state": [[{"step": 3, "avg": torch.ones(4)}]]}
    }
    file = write_state(tmp_path / "m.safetensors", "layered-model", model.state_dict(), extra)
    weights, back = read_state(file, "layered-model")
    assert set(weights) == set(model.state_dict())
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert back["opt"]["hypers"] == [{"lr": 0.1, "betas": (0.9, 0.99)}]
    assert (
        torch.equal(back["opt"]["state"][0][0]["avg"], torch.ones(4))
        and back["opt"]["state"][0][0]["step"] == 3
    )


def test_weights_of_another_architecture_are_named_before_anything_is_copied(tmp_path):
    source = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    file = write_state(tmp_path / "m.safetensors", "layered-model", source.state_dict())
    weights, _ = read_state(file, "layered-model")
    other = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(
        ArtifactError,
        match=r"m.safetensors holds weights of another model than Sequential: shapes differ \(0.weight: file \(4, 3\), model \(5, 3\)",
    ):
        load_weights(other, weights, file)
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())  # untouched
    deeper = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 2))
    with pytest.raises(ArtifactError, match=r"missing \['3.weight', '3.bias'\].*strict=False"):
        load_weights(deeper, weights, file)
    load_weights(deeper, weights, file, strict=False)
    assert torch.equal(deeper[0].weight, source[0].weight)


def test_learner_load_names_the_file_and_the_mismatch(tmp_path):
    from train_tasks import class_task, mlp

    from layered.train.learner import Learner
    from layered.train.losses.flattened import CrossEntropyLossFlat

    learn = Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), path=tmp_path)
    learn.save("small")
    other = Learner(class_task(), nn.Sequential(nn.Linear(2, 7), nn.Linear(7, 2)), loss_func=CrossEntropyLossFlat(), path=tmp_path)  # fmt: skip
    with pytest.raises(LayeredError, match=r"small.safetensors holds weights of another model"):
        other.load("small")
    (tmp_path / "models" / "empty.safetensors").write_bytes(b"")
    with pytest.raises(LayeredError, match=r"empty.safetensors is empty"):
        learn.load("empty")
