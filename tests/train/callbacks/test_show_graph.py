"""ShowGraph: a loss plot saved as a PNG in consoles, updated in place in notebooks."""

import builtins
import sys
import types

import pytest
from torch import nn
from train_tasks import linear_task

from layered.train.callbacks.show_graph import ShowGraph
from layered.train.learner import Learner
from layered.train.losses.flattened import MSELossFlat


def make_learner(tmp_path):
    dls, _ = linear_task(n_train=64, n_valid=32, bs=16)
    learn = Learner(dls, nn.Linear(4, 1), loss_func=MSELossFlat(), lr=0.05, path=tmp_path)
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def test_console_saves_a_png_of_train_and_valid_losses(tmp_path):
    learn = make_learner(tmp_path)
    learn.fit(3, cbs=ShowGraph())
    png = (tmp_path / "loss_graph.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert not list(tmp_path.glob("*.tmp"))
    graph = ShowGraph()
    learn.add_cb(graph)
    graph.before_fit()
    train, valid = graph.figure().axes[0].get_lines()
    assert list(train.get_ydata()) == pytest.approx(learn.recorder.losses)
    assert list(valid.get_xdata()) == [4, 8, 12]  # 4 batches per epoch
    assert list(valid.get_ydata()) == pytest.approx([v[1] for v in learn.recorder.values])


class FakeImage:
    def __init__(self, data):
        self.data = data


class FakeHandle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


def test_notebook_updates_one_display_in_place(tmp_path, monkeypatch):
    shown, handle = [], FakeHandle()

    def display(obj, display_id=False):
        shown.append(obj)
        return handle

    class ZMQInteractiveShell:  # what a Jupyter kernel's get_ipython() returns
        pass

    monkeypatch.setattr(builtins, "get_ipython", ZMQInteractiveShell, raising=False)
    ipython = types.ModuleType("IPython")
    ipython.__version__ = "8.0.0"
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.display, ipython_display.Image = display, FakeImage
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython_display)
    make_learner(tmp_path).fit(3, cbs=ShowGraph())
    assert len(shown) == 1 and len(handle.updates) == 2
    assert all(o.data.startswith(b"\x89PNG") for o in shown + handle.updates)
    assert not (tmp_path / "loss_graph.png").exists()
