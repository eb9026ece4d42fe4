"""export / load_learner: identical predictions, no training data in the file, no code run from it."""

import json
import os

import pytest
import torch
from torch import nn
from train_tasks import class_task, mlp

from layered.core.config import ConfigError
from layered.core.errors import LayeredError
from layered.core.registry import register_serializable
from layered.core.seed import set_seed
from layered.core.transform import Transform
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.errors import TrainError
from layered.train.learner import Learner, load_learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.saving.artifact import ArtifactError, read_artifact, write_artifact

# 1000 raw items with a distinctive text: none of it may reach the exported file
ITEMS = [f"zqx-secret-{i:04d}" for i in range(1000)]


@register_serializable
def features(item: str) -> torch.Tensor:
    """Three numbers from the digits of an item's name."""
    n = int(item[-4:])
    return torch.tensor([n % 10, n // 10 % 10, n // 100 % 10], dtype=torch.float32) / 9 - 0.5


@register_serializable
def label(item: str) -> str:
    return "high" if int(item[-1]) >= 5 else "low"


class TwoLayer(nn.Module):
    """A user model defined at module level of the test (not registered)."""

    def __init__(self, n_in=2, n_out=2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.head = nn.Linear(8, n_out)
        self.scale = 1.5

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


@register_serializable
class RegisteredTwoLayer(TwoLayer):
    """The same model, registered with one decorator."""


def fitted(learn, epochs=1):
    with learn.no_logging():
        learn.fit(epochs, 1e-2)
    return learn


def torch_learner(tmp_path, model=None):
    set_seed(0)
    return fitted(Learner(class_task(), model or mlp(), loss_func=CrossEntropyLossFlat(), path=tmp_path))


def block_learner(tmp_path, item_tfms=None):
    set_seed(0)
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=features,
        get_y=label,
        splitter=RandomSplitter(0.2, seed=0),
        item_tfms=item_tfms,
    )
    dls = dblock.dataloaders(ITEMS, bs=64)
    return fitted(Learner(dls, mlp(3, 2), path=tmp_path), epochs=2)


def test_a_model_over_plain_torch_loaders_round_trips(tmp_path):
    learn = torch_learner(tmp_path)
    file = learn.export()
    assert file == tmp_path / "export.safetensors" and sorted(os.listdir(tmp_path)) == ["export.safetensors"]
    loaded = load_learner(file)
    assert type(loaded.model) is nn.Sequential and loaded.opt is None and loaded.n_inp == 1
    valid = learn.dls.valid
    before, targets = learn.get_preds(dl=valid)
    after, targets_after = loaded.get_preds(dl=valid)
    assert torch.equal(before, after) and torch.equal(targets, targets_after)
    with pytest.raises(TrainError, match=r"exported over plain torch DataLoaders.*dl="):
        loaded.get_preds()
    with pytest.raises(TrainError, match="predict needs DataLoaders with test_dl"):
        loaded.predict(torch.zeros(2))


def test_the_file_is_plain_safetensors_with_the_weights_under_their_state_dict_names(tmp_path):
    from safetensors.torch import load_file

    learn = torch_learner(tmp_path)
    tensors = load_file(learn.export())
    state = learn.model.state_dict()
    assert {f"model.{k}" for k in state} <= set(tensors)
    for k, v in state.items():
        assert torch.equal(tensors[f"model.{k}"], v)
    config, _, meta = read_artifact(tmp_path / "export.safetensors", "layered-learner")
    assert meta["format_version"] == "1.0" and meta["format"] == "layered-learner"
    assert config["model"]["$module"] == "torch.nn.Sequential"


def test_an_unregistered_user_module_is_refused_at_export_with_the_remedy(tmp_path):
    learn = torch_learner(tmp_path, model=TwoLayer())
    with pytest.raises(
        ConfigError,
        match=rf"cannot export learner.model: {__name__}.TwoLayer is not a registered component. Register it with @register_serializable",
    ):
        learn.export()
    assert os.listdir(tmp_path) == []


def test_a_registered_user_module_loads_with_the_defaults(tmp_path):
    learn = torch_learner(tmp_path, model=RegisteredTwoLayer())
    loaded = load_learner(learn.export())
    assert type(loaded.model) is RegisteredTwoLayer and loaded.model.scale == 1.5
    assert torch.equal(loaded.get_preds(dl=learn.dls.valid)[0], learn.get_preds(dl=learn.dls.valid)[0])


def test_a_layered_pipeline_predicts_identically_after_loading(tmp_path):
    learn = block_learner(tmp_path)
    loaded = load_learner(learn.export())
    assert len(loaded.dls.valid.dataset) == 0 and len(loaded.dls.train.dataset) == 0
    vocab = loaded.dls.valid.dataset.tls[1].tfms.fs[-1].vocab
    assert list(vocab) == ["high", "low"]
    item = "zqx-new-item-0427"  # a raw item neither set has seen
    decoded, index, probs = loaded.predict(item)
    assert decoded == learn.predict(item)[0] == "high" and isinstance(decoded, str)
    assert int(index) == 0 and torch.equal(probs, learn.predict(item)[2])
    items = ITEMS[::37]
    before = learn.get_preds(dl=learn.dls.test_dl(items))[0]
    after = loaded.get_preds(dl=loaded.dls.test_dl(items))[0]
    assert after.shape == (len(items), 2) and torch.equal(before, after)


def test_the_file_holds_no_training_data(tmp_path):
    learn = block_learner(tmp_path)
    assert any("zqx-secret" in item for item in learn.dls.train.dataset.items)
    file = learn.export("small.safetensors")
    data = file.read_bytes()
    assert b"zqx-secret" not in data and b"zqx" not in data
    assert len(data) < 20_000  # weights, pipeline and vocab; the item names alone would add 17 KB


def test_export_refuses_a_lambda_naming_its_path_and_keeps_the_previous_file(tmp_path):
    learn = torch_learner(tmp_path)
    file = learn.export()
    before = file.read_bytes()
    learn.model.act = lambda x: x
    with pytest.raises(
        ConfigError, match=r"cannot export learner.model.act: .*<lambda> is a lambda or a local definition"
    ):
        learn.export()
    assert file.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["export.safetensors"]

    piped = block_learner(tmp_path, item_tfms=[Transform(lambda x: x)])
    with pytest.raises(
        ConfigError, match=r"cannot export learner.dls.loaders\[0\].after_item._fs\[0\].* a lambda"
    ):
        piped.export("piped.safetensors")
    assert not (tmp_path / "piped.safetensors").exists()


class Scaled(nn.Module):
    """Registered, but keeps a factor outside its constructor's reach: rebuilt structurally, it still matches."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x) * 2


register_serializable(Scaled)


class Drifting(nn.Module):
    """Its config rebuilds a different model from the live one: export must notice."""

    def __init__(self, n=2):
        super().__init__()
        self.n, self.lin = n, nn.Linear(2, 2)
        self.bias = 0.0

    def forward(self, x):
        return self.lin(x) + self.bias

    def get_config(self):
        return {"n": self.n}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


register_serializable(Drifting)


def test_export_proves_the_round_trip_and_refuses_a_model_that_does_not_rebuild(tmp_path):
    learn = torch_learner(tmp_path, model=Scaled())
    load_learner(learn.export())  # structural description keeps everything
    drifting = torch_learner(tmp_path, model=Drifting())
    drifting.model.bias = 5.0  # state its get_config does not describe
    with pytest.raises(TrainError, match="predicts differently from the live one"):
        drifting.export("drift.safetensors")
    assert not (tmp_path / "drift.safetensors").exists()


def test_files_that_are_not_exports_are_named_with_what_is_wrong(tmp_path):
    learn = torch_learner(tmp_path)
    good = learn.export().read_bytes()
    cases = {
        "empty.safetensors": (b"", r"is empty"),
        "truncated.safetensors": (good[: len(good) // 2], r"cannot be read|truncated"),
        "text.txt": (b"hello, I am a text file\n" * 3, r"is not a safetensors file|header would be"),
        "tiny.bin": (b"abc", r"too short"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ArtifactError, match=message):
            load_learner(tmp_path / name)
    torch.save({"model": {}}, tmp_path / "weights.pth")
    with pytest.raises(ArtifactError, match=r"weights.pth is a zip archive \(a torch.save file"):
        load_learner(tmp_path / "weights.pth")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ArtifactError, match=r"not a layered-learner file .*without layered metadata"):
        load_learner(tmp_path / "plain.safetensors")
    with pytest.raises(ArtifactError, match="is not a file"):
        load_learner(tmp_path / "missing.safetensors")


def test_a_newer_major_format_is_refused_and_names_the_upgrade(tmp_path, monkeypatch):
    from layered.train.saving import artifact

    learn = torch_learner(tmp_path)
    monkeypatch.setattr(artifact, "FORMAT_VERSION", (2, 0))
    config, tensors, _ = read_artifact(learn.export(), "layered-learner")
    write_artifact(tmp_path / "future.safetensors", "layered-learner", config, tensors)
    monkeypatch.undo()
    with pytest.raises(
        ArtifactError, match=r"format 2.0, written by layered .*reads format 1.x: upgrade layered-train"
    ):
        load_learner(tmp_path / "future.safetensors")


def test_a_failed_write_leaves_the_previous_export_and_no_temporary_file(tmp_path, monkeypatch):
    from layered.train.saving import export as export_module

    learn = torch_learner(tmp_path)
    file = learn.export()
    before = file.read_bytes()

    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            raise OSError("disk full")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(export_module, "atomic_write", Broken)
    with pytest.raises(OSError, match="disk full"):
        learn.export()
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["export.safetensors"] and file.read_bytes() == before
    assert type(load_learner(file).model) is nn.Sequential


def test_the_trusted_pickle_format_warns_on_both_sides_and_is_refused_by_default(tmp_path):
    learn = torch_learner(tmp_path, model=TwoLayer())  # not registered: only pickle can carry it
    with pytest.warns(UserWarning, match="written as a pickle: loading it runs code"):
        file = learn.export("trusted.pth", pickle=True)
    with pytest.raises(ArtifactError, match="zip archive"):
        load_learner(file)
    with pytest.warns(UserWarning, match="runs any code it holds"):
        loaded = load_learner(file, trusted=True)
    assert type(loaded.model) is TwoLayer
    assert torch.equal(loaded.get_preds(dl=learn.dls.valid)[0], learn.get_preds(dl=learn.dls.valid)[0])


def test_every_error_of_the_loader_is_the_librarys(tmp_path):
    learn = torch_learner(tmp_path)
    config, tensors, _ = read_artifact(learn.export(), "layered-learner")
    config["n_inp"] = "one"
    write_artifact(tmp_path / "bad.safetensors", "layered-learner", config, tensors)
    with pytest.raises(LayeredError, match="n_inp must be a positive integer"):
        load_learner(tmp_path / "bad.safetensors")
    assert json.dumps(config)  # the configuration is plain JSON
