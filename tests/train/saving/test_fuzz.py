"""Property-based fuzzing of load_learner: a mutated export either loads or raises the library's error.

Never another exception, never a side effect: the folder holds the same files after every try.
The mutations work on the raw bytes (flips, truncation) and on the JSON configuration (values
swapped for others, keys renamed, values nested, tags planted).
"""

import json
import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from train_tasks import class_task

from layered.core.errors import LayeredError
from layered.core.seed import set_seed
from layered.train.learner import Learner, load_learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.saving.artifact import artifact_bytes, read_artifact

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    set_seed(0)
    folder = tmp_path_factory.mktemp("valid")
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    file = Learner(class_task(), model, loss_func=CrossEntropyLossFlat(), path=folder).export()
    config, tensors, _ = read_artifact(file, "layered-learner")
    return file.read_bytes(), config, tensors


def load_or_refuse(folder, data: bytes) -> None:
    """Write `data`, load it: success or the library's error; the folder is unchanged otherwise."""
    file = folder / "fuzzed.safetensors"
    file.write_bytes(data)
    before = sorted(os.listdir(folder))
    try:
        learn = load_learner(file)
    except LayeredError:
        pass
    else:
        assert isinstance(learn.model, nn.Module)
    assert sorted(os.listdir(folder)) == before


@SETTINGS
@given(data=st.data())
def test_flipped_and_truncated_bytes(tmp_path, valid, data):
    raw = bytearray(valid[0])
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    load_or_refuse(tmp_path, bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["$obj", "$module", "$name", "$ref", "$tensor", "__class__", "forward", "model.0.weight"]
    ),
)
TAGGED = st.one_of(
    st.fixed_dictionaries({"$ref": st.integers(-2, 40)}),
    st.fixed_dictionaries(
        {
            "$name": st.sampled_from(
                [
                    "os.system",
                    "torch.nn.Linear",
                    "torch.nn.functional.relu",
                    "builtins.object",
                    "functools.partial",
                ]
            )
        }
    ),
    st.fixed_dictionaries({"$tensor": st.sampled_from(["model.0.weight", "model.1.running_mean", "nope"])}),
    st.fixed_dictionaries(
        {
            "$obj": st.sampled_from(["torch.nn.Linear", "layered.core.collection.L", "re.Pattern"]),
            "state": st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "$module": st.sampled_from(["torch.nn.Linear", "torch.nn.Sequential"]),
            "params": st.just({}),
            "buffers": st.just({}),
            "children": st.just({}),
            "state": st.just({"forward": 1}),
        }
    ),
)
VALUES = st.recursive(st.one_of(SCALARS, TAGGED), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)  # fmt: skip


def _places(node, path=()):
    """Every (container, key) in a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield node, k
            yield from _places(v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield node, i
            yield from _places(v)


@SETTINGS
@given(data=st.data())
def test_mutated_configurations(tmp_path, valid, data):
    _, config, tensors = valid
    config = json.loads(json.dumps(config))
    for _ in range(data.draw(st.integers(1, 4))):
        places = list(_places(config))
        container, key = data.draw(st.sampled_from(places))
        action = data.draw(st.sampled_from(["replace", "rename", "nest", "delete", "swap"]))
        if action == "replace":
            container[key] = data.draw(VALUES)
        elif action == "nest":
            container[key] = data.draw(st.sampled_from([[container[key]], {"x": container[key]}, {"$tuple": [container[key]]}]))  # fmt: skip
        elif action == "rename" and isinstance(container, dict):
            container[data.draw(st.text(max_size=8))] = container.pop(key)
        elif action == "delete" and isinstance(container, dict):
            del container[key]
        elif action == "swap":
            other, other_key = data.draw(st.sampled_from(places))
            container[key], other[other_key] = other[other_key], container[key]
    weights = dict(tensors)
    if data.draw(st.booleans()) and weights:
        k = data.draw(st.sampled_from(sorted(weights)))
        weights[k] = torch.zeros(data.draw(st.lists(st.integers(0, 5), max_size=3)))
    load_or_refuse(tmp_path, artifact_bytes("layered-learner", config, weights))
