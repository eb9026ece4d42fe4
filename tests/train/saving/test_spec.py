"""Specs: objects described as plain data, rebuilt from a weights-only file, refusals at both ends."""

import collections
import enum
import functools
import io
import pathlib
import random
import weakref

import numpy as np
import pytest
import torch
from torch import nn

from layered.core.collection import L
from layered.core.pipeline import Pipeline
from layered.core.transform import Transform
from layered.data.categorize import Categorize, Category, CategoryMap, TensorCategory
from layered.train.errors import TrainError
from layered.train.saving.spec import from_spec, to_spec


def through_file(spec):
    """What a spec becomes after torch.save and torch.load(weights_only=True)."""
    buf = io.BytesIO()
    torch.save(spec, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def round_trip(obj, **kwargs):
    return from_spec(through_file(to_spec(obj)), **kwargs)


class Box:
    """A plain user object, defined at module level."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class Scaled(nn.Module):
    """A user module subclass with a plain attribute and a non-persistent buffer."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.factor = 2.5
        self.register_buffer("offset", torch.tensor([1.0, -1.0]), persistent=False)

    def forward(self, x):
        return self.lin(x) * self.factor + self.offset


Pair = collections.namedtuple("Pair", "a b")


class Color(enum.Enum):
    RED = 1


class Pickler:
    """An object that can only be rebuilt by running its __reduce__."""

    def __reduce__(self):
        return (print, ("ran",))


def double(x: int):
    return x * 2


@functools.cache
def cached_square(x: int):
    return x * x


def test_values_round_trip_through_a_weights_only_file():
    rng = random.Random(7)
    value = {
        "a": (1, 2.5, None, True, "s", b"b", 1 + 2j),
        3: [torch.arange(3), slice(1, 5, 2)],
        "sets": ({"x"}, frozenset({1, 2})),
        "torch": (torch.float16, torch.device("cpu"), torch.Size([2, 3])),
        "path": pathlib.Path("/data/x.csv"),
        "np": (
            np.arange(6, dtype=np.float32).reshape(2, 3),
            np.array(["ab", "c"]),
            np.int16(3),
            np.dtype("<f8"),
        ),
        "od": collections.OrderedDict(b=1, a=2),
        "dd": collections.defaultdict(int, {"x": 1}),
        "__tag_like__": 1,
        "rng": rng,
    }
    back = round_trip(value)
    assert back["a"] == value["a"] and back[3][1] == slice(1, 5, 2)
    assert torch.equal(back[3][0], torch.arange(3))
    assert back["sets"] == ({"x"}, frozenset({1, 2})) and type(back["sets"][1]) is frozenset
    assert back["torch"] == value["torch"] and type(back["torch"][2]) is torch.Size
    assert back["path"] == pathlib.Path("/data/x.csv")
    arr, strs, scalar, dtype = back["np"]
    assert arr.dtype == np.float32 and arr.shape == (2, 3) and np.array_equal(arr, value["np"][0])
    assert strs.tolist() == ["ab", "c"] and type(scalar) is np.int16 and scalar == 3 and dtype == np.float64
    assert type(back["od"]) is collections.OrderedDict and list(back["od"]) == ["b", "a"]
    assert type(back["dd"]) is collections.defaultdict and back["dd"]["missing"] == 0
    assert back["__tag_like__"] == 1
    assert [back["rng"].random() for _ in range(3)] == [rng.random() for _ in range(3)]


def test_the_spec_of_a_tuple_or_odd_keys_is_tagged_plain_data():
    spec = to_spec({"t": (1, 2), 4: "four"})
    assert spec == {"__dict__": [["t", {"__tuple__": [1, 2]}], [4, "four"]]}
    assert to_spec(double) == {"__func__": f"{__name__}.double"}
    assert to_spec([cached_square]) == [{"__func__": f"{__name__}.cached_square"}]


def test_instances_keep_class_state_shared_references_and_cycles():
    shared = Box(n=1)
    vocab = CategoryMap([3, 1, 2])
    box = Box(a=shared, b=shared, items=L([1, 2]), vocab=vocab, pair=Pair(1, "x"), label=Category("cat"))
    box.me = box
    back = round_trip(box, allow=[__name__])
    assert type(back) is Box and back.me is back and back.a is back.b and back.a.n == 1
    assert type(back.items) is L and back.items == [1, 2]
    assert (
        type(back.vocab) is CategoryMap
        and list(back.vocab) == [1, 2, 3]
        and back.vocab.o2i == {1: 0, 2: 1, 3: 2}
    )
    assert type(back.pair) is Pair and back.pair.b == "x"
    assert type(back.label) is Category and back.label == "cat"


def test_semantic_tensors_keep_their_type_and_metadata():
    t = TensorCategory(torch.tensor([2, 0]), source="labels")
    back = round_trip({"t": t})["t"]
    assert type(back) is TensorCategory and back.source == "labels" and back.tolist() == [2, 0]


def test_weak_containers_are_rebuilt_empty():
    kept = Box()
    back = round_trip({"w": weakref.WeakSet([kept])}, allow=[__name__])["w"]
    assert type(back) is weakref.WeakSet and len(back) == 0


def test_a_module_round_trips_with_weights_inline():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3))
    model[0].bias.requires_grad_(False)
    model(torch.randn(8, 3))  # move the batch-norm statistics away from their defaults
    model.eval()
    back = round_trip(model)
    x = torch.randn(5, 3)
    assert type(back) is nn.Sequential and not back.training
    assert torch.equal(back(x), model(x))
    assert not back[0].bias.requires_grad and back[0].weight.requires_grad


def test_without_weights_a_module_is_described_by_shape_and_loads_its_state_dict():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    model[2].weight = model[0].weight  # tied weights
    spec = to_spec(model, weights=False)
    first = spec["module"]["children"]["0"]["module"]["params"]["weight"]
    assert first["__parameter__"] == {"__empty__": [3, 3], "dtype": "float32"}
    back = from_spec(through_file(spec))
    assert back[2].weight is back[0].weight
    back.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(4, 3)
    assert torch.equal(back(x), model(x))


def test_a_user_module_needs_its_module_allowed():
    model = Scaled().eval()
    spec = through_file(to_spec(model))
    with pytest.raises(
        TrainError, match=rf"refusing to load {__name__}\.Scaled from the spec: not in the allow-list"
    ):
        from_spec(spec)
    x = torch.randn(2, 3)
    for options in ({"allow": [__name__]}, {"allow": f"{__name__}.Scaled"}, {"trusted": True}):
        back = from_spec(spec, **options)
        assert type(back) is Scaled and back.factor == 2.5 and torch.equal(back(x), model(x))


def test_an_lstm_restores_through_its_own_setstate():
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 4, batch_first=True)
    back = round_trip(lstm)
    x = torch.randn(2, 5, 3)
    assert torch.equal(back(x)[0], lstm(x)[0])
    assert back._flat_weights[0] is back.weight_ih_l0


def test_a_pipeline_rebuilds_its_transforms_and_call_plan():
    pipe = Pipeline([Transform(double), Categorize()])
    pipe.setup([3, 1, 2, 3])
    back = round_trip(pipe, allow=[__name__])
    assert [type(f) for f in back.fs] == [Transform, Categorize]
    assert list(back.fs[1].vocab) == [2, 4, 6]
    assert type(back(2)) is TensorCategory and int(back(2)) == 1 == int(pipe(2))
    assert back.decode(TensorCategory(2)) == "6"


def local_function_holder():
    def inner(x):
        return x

    class Local:
        def method(self):
            return 1

    return inner, Local


def numbers():
    yield 1


def _hooked():
    m = nn.Linear(2, 2)
    m.register_forward_hook(print)
    return m


inner_function, LocalClass = local_function_holder()


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"f": lambda x: x}, r"obj\['f'\]: it is a lambda"),
        (
            [1, inner_function],
            r"obj\[1\]: it is local_function_holder.<locals>.inner, defined inside a function",
        ),
        (Box(x=LocalClass()), r"obj.x: its class local_function_holder.<locals>.Local is .*<locals>"),
        (Box(m=LocalClass().method), r"obj.m.__self__: its class .*<locals>"),
        ({"g": numbers()}, r"obj\['g'\]: it is a generator"),
        ({"c": Color.RED}, r"obj\['c'\]: it is an enum member"),
        (
            {"m": np},
            r"obj\['m'\]: it is a module: refer to the functions or classes in it instead \(<module 'numpy'",
        ),
        ({"p": functools.partial(double, 2)}, r"obj\['p'\]: a partial can only be rebuilt by running code"),
        ({"r": Pickler()}, r"obj\['r'\]: a Pickler can only be rebuilt by running code .*__reduce__"),
        ({"h": _hooked()}, r"obj\['h'\]: it has 1 _forward_hooks registered"),
    ],
)
def test_export_refuses_what_only_code_could_restore_naming_the_path(obj, message):
    with pytest.raises(TrainError, match=rf"cannot export {message}"):
        to_spec(obj)


def test_export_refuses_an_open_file(tmp_path):
    with (
        open(tmp_path / "f.txt", "w") as f,
        pytest.raises(TrainError, match=r"cannot export obj.f: it is an open file"),
    ):
        to_spec(Box(f=f))


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"__func__": "os.system"}, "refusing to load os.system from the spec: not in the allow-list"),
        ({"__class__": "subprocess.Popen", "state": {}}, "refusing to load subprocess.Popen"),
        ({"__func__": "builtins.eval"}, "refusing to load builtins.eval"),
        ({"__func__": "builtins.getattr"}, "refusing to load builtins.getattr"),
        ({"__func__": "builtins.__import__"}, "refusing to load builtins.__import__ .*dunder"),
        ({"__func__": "os.__dict__"}, r"refusing to load os.__dict__ .*dunder"),
        ({"__func__": "layered.core.transform.__builtins__"}, "dunder attributes are never resolved"),
        ({"__func__": "torch.os.system"}, "refusing to load torch.os.system"),
        ({"__func__": "torch.hub.load"}, "refusing to load torch.hub.load"),
        ({"__func__": "torch.load"}, "refusing to load torch.load"),
        ({"__tensor__": torch.zeros(1), "__class__": "os.system"}, "refusing to load os.system"),
        ({"__class__": "collections.OrderedDict", "state": {"__dict__": [["__class__", {"__func__": "builtins.dict"}]]}}, "refusing to set the attribute '__class__'"),
        ({"__method__": "__init__", "self": {"__class__": "layered.core.collection.L"}}, "has no method '__init__'"),
    ],
)  # fmt: skip
def test_load_refuses_names_outside_the_allow_list(spec, message):
    with pytest.raises(TrainError, match=message):
        from_spec(through_file(spec))


def test_allowed_names_resolve_and_trusted_lifts_the_list():
    assert from_spec({"__func__": "torch.nn.modules.linear.Linear"}) is nn.Linear
    assert from_spec({"__func__": "builtins.int"}) is int
    assert from_spec({"__func__": f"{__name__}.double"}, allow=[__name__]) is double
    assert from_spec({"__func__": "os.path.join"}, trusted=True).__name__ == "join"


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"__mystery__": 1}, r"cannot load obj from the spec: unknown keys \['__mystery__'\]"),
        ({"__ref__": 5}, "refers to object 5, which is not \\(yet\\) built"),
        ({"__size__": "big"}, r"malformed __size__ spec \(TypeError: expected a list"),
        ({"__dtype__": "Tensor"}, "'Tensor' is not a torch dtype"),
        ({"k": {"__func__": 3}}, r"cannot load obj\['k'\] from the spec: a class or function name must be a string"),
        (
            {"__class__": "torch.nn.modules.container.Sequential", "module": {"params": {}, "buffers": {}, "children": {"0": 1}}},
            "children entry '0' is a int, not a Module",
        ),
    ],
)  # fmt: skip
def test_malformed_specs_raise_a_train_error_saying_where(spec, message):
    with pytest.raises(TrainError, match=message):
        from_spec(spec)


@pytest.mark.parametrize("weights", [True, False])
def test_parametrized_modules_round_trip_with_their_originals_and_state(weights):
    from torch.nn.utils.parametrizations import spectral_norm, weight_norm

    torch.manual_seed(0)
    model = nn.Sequential(weight_norm(nn.Conv2d(3, 4, 3)), nn.ReLU(), spectral_norm(nn.Linear(4, 2)))
    with torch.no_grad():  # a negative gain: torch would derive a different (g, v) from the weight alone
        model[0].parametrizations.weight.original0.mul_(-1.5)
    spec = to_spec(model, weights=weights)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rebuilt = from_spec(through_file(spec))
    if not weights:
        rebuilt.load_state_dict(model.state_dict())
    after = rebuilt.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(after[k], before[k]) for k in before)  # spectral norm's u, v untouched too
    assert type(rebuilt[0]).__name__ == "ParametrizedConv2d" and isinstance(rebuilt[0], nn.Conv2d)
    trainable = {id(p) for p in rebuilt.parameters()}
    assert id(rebuilt[0].parametrizations.weight.original1) in trainable
    x = torch.randn(2, 3, 5, 5)
    model.eval(), rebuilt.eval()
    assert torch.equal(rebuilt[0](x), model[0](x))
    assert torch.equal(rebuilt[2](torch.ones(1, 4)), model[2](torch.ones(1, 4)))
