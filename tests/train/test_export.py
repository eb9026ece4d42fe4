"""Export and load_learner: identical predictions, no code run from the file, clear refusals."""

import os
import pickle

import pytest
import torch
from torch import nn

from layered.core.transform import Transform
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.errors import TrainError
from layered.train.export import load_learner
from layered.train.learner import Learner, atomic_save
from layered.train.spec import from_spec, to_spec

G = torch.Generator().manual_seed(0)
X = torch.randn(200, 3, generator=G)
Y = ["pos" if v > 0 else "neg" for v in X[:, 0].tolist()]


def get_x(i):
    return X[i]


def get_y(i):
    return Y[i]


class TwoLayer(nn.Module):
    """A user model defined at module level."""

    def __init__(self, n_in=3, n_out=2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.head = nn.Linear(8, n_out)
        self.scale = 1.5

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def trained(tmp_path, model=None, item_tfms=None):
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=get_x,
        get_y=get_y,
        splitter=RandomSplitter(0.25, seed=0),
        item_tfms=item_tfms,
    )
    dls = dblock.dataloaders(list(range(200)), bs=16)
    learn = Learner(dls, model or TwoLayer(), path=tmp_path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    learn.fit(2, 1e-2)
    return learn


def test_round_trip_predicts_identically(tmp_path):
    learn = trained(tmp_path)
    file = learn.export("model.pth")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pth"]
    with pytest.raises(TrainError, match=r"refusing to load test_export.TwoLayer .* not in the allow-list"):
        load_learner(file)
    loaded = load_learner(file, allow=["test_export"])
    items = list(range(150, 200))
    before = learn.get_preds(dl=learn.dls.test_dl(items))[0]
    after = loaded.get_preds(dl=loaded.dls.test_dl(items))[0]
    assert torch.equal(before, after)
    assert loaded.predict(3)[0] == learn.predict(3)[0] in ("pos", "neg")


def test_the_file_holds_no_training_data(tmp_path):
    learn = trained(tmp_path, model=nn.Sequential(nn.Linear(3, 2)))
    file = learn.export("small.pth")
    assert file.stat().st_size < 20_000
    payload = torch.load(file, weights_only=True)
    assert "items" not in str(payload["data"]) or "150" not in str(payload["data"])
    assert load_learner(file, allow=["test_export"]).dls.valid.dataset.tls[0].items == []


def test_export_refuses_a_lambda_naming_where_it_is(tmp_path):
    learn = trained(tmp_path, model=nn.Sequential(nn.Linear(3, 2)), item_tfms=[Transform(lambda x: x)])
    with pytest.raises(
        TrainError, match=r"cannot export learner.dls.valid\[.after_item.\].fs\[0\].*a lambda"
    ):
        learn.export("bad.pth")
    assert not (tmp_path / "bad.pth").exists()


def test_a_planted_spec_naming_os_system_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    for spec in (
        {"__class__": "os.system", "state": {}},
        {"__ref__": "subprocess.Popen"},
        {"__class__": "builtins.eval", "state": {}},
        {"__ref__": "os.__dict__"},
    ):
        with pytest.raises(TrainError, match="refusing to load"):
            from_spec(spec)
    payload = {
        "format": "layered-learner",
        "version": "0",
        "model": {"__ref__": "os.system"},
        "state_dict": {},
        "loss_func": None,
        "data": None,
    }
    torch.save(payload, tmp_path / "evil.pth")
    with pytest.raises(TrainError, match=r"refusing to load os\.system"):
        load_learner(tmp_path / "evil.pth")
    assert not marker.exists()


class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['LAYERED_TEST_MARKER']}",))


def test_a_pickled_payload_is_refused_without_running_it(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("LAYERED_TEST_MARKER", str(marker))
    with open(tmp_path / "evil.pth", "wb") as f:
        pickle.dump({"x": Evil()}, f, protocol=2)
    with pytest.raises(TrainError, match="safe loading refuses"):
        load_learner(tmp_path / "evil.pth")
    assert not marker.exists()


def test_trusted_accepts_classes_outside_the_allow_list(tmp_path):
    learn = trained(tmp_path)
    file = learn.export("user.pth")
    loaded = load_learner(file, trusted=True)
    assert isinstance(loaded.model, TwoLayer) and loaded.predict(3)[0] == learn.predict(3)[0]


def test_spec_round_trips_values():
    value = {"a": (1, 2.5, None), 3: [torch.arange(3), slice(1, 5)], "s": {"x"}, "d": torch.float16}
    back = from_spec(to_spec(value))
    assert back["a"] == (1, 2.5, None) and torch.equal(back[3][0], torch.arange(3))
    assert back[3][1] == slice(1, 5) and back["s"] == {"x"} and back["d"] is torch.float16


def test_atomic_save_keeps_the_previous_file_on_failure(tmp_path):
    file = tmp_path / "state.pth"
    atomic_save({"v": 1}, file)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        atomic_save({"v": Unpicklable()}, file)
    assert torch.load(file, weights_only=True) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.pth"]
