"""export / load_learner: identical predictions, no training data in the file, no code run from it."""

import os
import pickle

import pytest
import torch
from torch import nn
from train_tasks import class_task, mlp

from layered.core.seed import set_seed
from layered.core.transform import Transform
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train import learner as learner_module
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.saving.export import load_learner

# 1000 raw items with a distinctive text: none of it may reach the exported file
ITEMS = [f"zqx-secret-{i:04d}" for i in range(1000)]


def features(item: str) -> torch.Tensor:
    """Three numbers from the digits of an item's name."""
    n = int(item[-4:])
    return torch.tensor([n % 10, n // 10 % 10, n // 100 % 10], dtype=torch.float32) / 9 - 0.5


def label(item: str) -> str:
    return "high" if int(item[-1]) >= 5 else "low"


class TwoLayer(nn.Module):
    """A user model defined at module level of the test."""

    def __init__(self, n_in=2, n_out=2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.head = nn.Linear(8, n_out)
        self.scale = 1.5

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


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
    file = learn.export("mlp.pth")
    assert file == tmp_path / "mlp.pth" and sorted(os.listdir(tmp_path)) == ["mlp.pth"]
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


def test_a_user_module_loads_only_when_its_module_is_allowed(tmp_path):
    learn = torch_learner(tmp_path, model=TwoLayer())
    file = learn.export()
    with pytest.raises(
        TrainError, match=rf"refusing to load {__name__}\.TwoLayer from {file}: not in the allow-list"
    ):
        load_learner(file)
    for options in ({"allow": [__name__]}, {"trusted": True}):
        loaded = load_learner(file, **options)
        assert type(loaded.model) is TwoLayer and loaded.model.scale == 1.5
        assert torch.equal(loaded.get_preds(dl=learn.dls.valid)[0], learn.get_preds(dl=learn.dls.valid)[0])


def test_a_layered_pipeline_predicts_identically_after_loading(tmp_path):
    learn = block_learner(tmp_path)
    loaded = load_learner(learn.export(), allow=[__name__])
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
    file = learn.export("small.pth")
    data = file.read_bytes()
    assert b"zqx-secret" not in data and b"zqx" not in data
    assert len(data) < 20_000  # weights, pipeline and vocab: ~14 KB; the item names alone would add 17 KB


def test_export_refuses_a_lambda_naming_its_path_and_keeps_the_previous_file(tmp_path):
    learn = torch_learner(tmp_path)
    file = learn.export()
    before = file.read_bytes()
    learn.model.act = lambda x: x
    with pytest.raises(TrainError, match=r"cannot export learner.model.act: it is a lambda"):
        learn.export()
    assert file.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["export.pth"]

    piped = block_learner(tmp_path, item_tfms=[Transform(lambda x: x)])
    with pytest.raises(
        TrainError, match=r"cannot export learner.dls.loaders\[0\].after_item._fs\[0\].* a lambda"
    ):
        piped.export("piped.pth")
    assert not (tmp_path / "piped.pth").exists()


def planted_record(**specs):
    record = {"format": "layered-learner", "version": "0.1.0", "n_inp": 1, "state_dict": {}, "dls": None}
    record["model"] = {
        "__class__": "torch.nn.modules.container.Sequential",
        "module": {"params": {}, "buffers": {}, "children": {}},
    }
    record["loss_func"] = None
    record.update(specs)
    return record


@pytest.mark.parametrize(
    "specs, name",
    [
        ({"model": {"__class__": "os.system", "state": {}}}, "os.system"),
        ({"loss_func": {"__func__": "subprocess.Popen"}}, "subprocess.Popen"),
        ({"loss_func": {"__func__": "builtins.eval"}}, "builtins.eval"),
        ({"dls": {"__class__": "layered.data.dataloaders.DataLoaders", "state": {"f": {"__func__": "os.system"}}}}, "os.system"),
    ],
)  # fmt: skip
def test_a_planted_spec_is_refused_without_running_anything(tmp_path, specs, name):
    marker = tmp_path / "pwned"
    file = tmp_path / "planted.pth"
    torch.save(planted_record(**specs), file)
    with pytest.raises(
        TrainError, match=rf"refusing to load {name} from {file}: not in the allow-list; pass trusted=True"
    ):
        load_learner(file)
    assert not marker.exists()


class Evil:
    """Pickled, it asks the loader to run a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickled_payload_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    file = tmp_path / "evil.pth"
    torch.save({"format": "layered-learner", "model": Evil(marker)}, file)
    with pytest.raises(
        TrainError, match=r"weights_only=True\) refuses; torch says: .*GLOBAL .*system.*trusted=True"
    ):
        load_learner(file)
    assert not marker.exists()
    with open(file, "wb") as f:  # plain pickle rather than torch's zip format
        pickle.dump(Evil(marker), f, protocol=2)
    with pytest.raises(TrainError, match="refuses"):
        load_learner(file)
    assert not marker.exists()


def test_trusted_loads_a_plainly_pickled_learner(tmp_path):
    learn = torch_learner(tmp_path)
    file = tmp_path / "whole.pkl"
    torch.save(learn, file)
    with pytest.raises(TrainError, match="refuses"):
        load_learner(file)
    loaded = load_learner(file, trusted=True)
    assert type(loaded) is Learner and loaded is not learn
    assert torch.equal(loaded.get_preds(dl=learn.dls.valid)[0], learn.get_preds(dl=learn.dls.valid)[0])


def test_a_file_that_is_not_an_export_is_named(tmp_path):
    file = tmp_path / "weights.pth"
    torch.save({"model": {}}, file)
    with pytest.raises(TrainError, match=r"not a layered learner export .*keys \['model'\]"):
        load_learner(file)
    with pytest.raises(TrainError, match="is not a file"):
        load_learner(tmp_path / "missing.pth")


def test_a_failed_write_leaves_the_previous_export_and_no_temporary_file(tmp_path, monkeypatch):
    learn = torch_learner(tmp_path)
    file = learn.export()
    before = file.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(learner_module.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        learn.export()
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["export.pth"] and file.read_bytes() == before
    assert type(load_learner(file).model) is nn.Sequential
