"""model_summary: rows per layer, shapes, parameter counts adding up to the totals, Learner details."""

import pytest
import torch
from torch import nn
from train_tasks import class_task

from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.nn.conv import ConvLayer, NormType
from layered.train.nn.layers import Flatten, SelfAttention
from layered.train.nn.summary import model_summary


def _rows(text):
    """The table rows as (type, shape, n_params, trainable), between the second and third rules."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("=")]
    rows = []
    for line in lines[rules[1] + 1 : rules[2]]:
        name, rest = line.split(None, 1)
        cells = [c for c in rest.split("  ") if c.strip()]
        trainable = cells[-1].strip() if cells[-1].strip() in ("True", "False", "partial") else ""
        n = cells[-2] if trainable else cells[-1]
        rows.append((name, cells[0].strip(), int(n.replace(",", "")), trainable))
    return rows


def _total(text, label):
    line = next(line for line in text.splitlines() if line.startswith(label))
    return int(line.split(":")[1].replace(",", ""))


def _convnet():
    torch.manual_seed(0)
    return nn.Sequential(
        ConvLayer(3, 8, stride=2),
        ConvLayer(8, 8, norm_type=NormType.Weight),
        SelfAttention(8),
        nn.AdaptiveAvgPool2d(1),
        Flatten(),
        nn.Linear(8, 5),
    )


def test_summary_rows_shapes_and_totals():
    model = _convnet()
    model[0][0].weight.requires_grad_(False)
    text = model_summary(model, torch.randn(4, 3, 10, 10))
    assert text.splitlines()[0] == "Sequential (Input shape: [4 x 3 x 10 x 10])"
    rows = _rows(text)
    names = [r[0] for r in rows]
    assert names[:5] == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "ReLU"]  # weight-normed conv is one layer
    assert names[-3:] == ["AdaptiveAvgPool2d", "Flatten", "Linear"]
    assert rows[0] == ("Conv2d", "4 x 8 x 5 x 5", 3 * 8 * 9, "False")
    assert rows[3] == ("Conv2d", "4 x 8 x 5 x 5", 8 * 8 * 9 + 8 + 8, "True")  # v, g and bias
    assert rows[-1] == ("Linear", "4 x 5", 8 * 5 + 5, "True")
    assert ("SelfAttention", "4 x 8 x 5 x 5", 1, "True") in rows  # owns gamma besides its convs
    total = sum(p.numel() for p in model.parameters())
    assert sum(r[2] for r in rows) == total == _total(text, "Total params")
    assert _total(text, "Total non-trainable params") == 3 * 8 * 9
    assert _total(text, "Total trainable params") == total - 3 * 8 * 9
    assert model.training  # mode restored


def test_summary_marks_layers_that_did_not_run():
    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(3, 2), nn.Linear(3, 7)

        def forward(self, x):
            return self.used(x)

    rows = _rows(model_summary(Skip(), torch.randn(2, 3)))
    assert rows == [("Linear", "2 x 2", 8, "True"), ("Linear", "-", 28, "True")]


def test_summary_of_a_learner_uses_a_training_batch():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
    learn = Learner(class_task(), model, loss_func=CrossEntropyLossFlat())
    text = model_summary(learn)
    assert "(Input shape: [64 x 2])" in text.splitlines()[0]
    assert [r[1] for r in _rows(text)] == ["64 x 16"] * 3 + ["64 x 2"]
    assert _total(text, "Total params") == 2 * 16 + 16 + 32 + 16 * 2 + 2
    assert "Optimizer used: Adam" in text
    assert "Loss function: " + repr(learn.loss_func) in text
    cb_lines = text.split("Callbacks:\n")[1].splitlines()
    assert cb_lines == [f"  - {type(cb).__name__}" for cb in learn.cbs]
    assert "  - Recorder" in cb_lines


def test_summary_errors_name_what_is_missing():
    with pytest.raises(TrainError, match="needs its inputs"):
        model_summary(nn.Linear(2, 2))
    with pytest.raises(TrainError, match=r"nn\.Module or a Learner"):
        model_summary(object())
