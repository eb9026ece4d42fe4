"""lazy_face: a package's public names, read from one line per module and imported on first use."""

import sys
import types

import pytest

from layered.core.lazy import FaceError, lazy_face


def fake_package(monkeypatch, name):
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def test_names_are_imported_from_their_module_on_first_use_and_cached(monkeypatch):
    pkg = fake_package(monkeypatch, "fakepkg")
    names, getattr_, dir_ = lazy_face("fakepkg", "\nmath_tools: x\n")
    math_tools = fake_package(monkeypatch, "fakepkg.math_tools")
    math_tools.x = 42
    assert names == ["x"] and "x" in dir_()
    assert getattr_("x") == 42 and vars(pkg)["x"] == 42  # bound on the package: next look-up is direct
    with pytest.raises(AttributeError, match="module 'fakepkg' has no attribute 'y'"):
        getattr_("y")


def test_rooms_give_their_names_and_a_name_listed_twice_is_refused(monkeypatch):
    fake_package(monkeypatch, "fakepkg")
    room = fake_package(monkeypatch, "fakepkg.room")
    room.__all__ = ["__version__", "inner"]
    names, _, _ = lazy_face("fakepkg", "a: b c", rooms=["room"])
    assert names == ["b", "c", "inner"]
    with pytest.raises(FaceError, match=r"'b' is listed by both fakepkg\.a and fakepkg\.d"):
        lazy_face("fakepkg", "a: b\nd: b")
    with pytest.raises(FaceError, match=r"face line 'nonsense' is not 'module: Name Name \.\.\.'"):
        lazy_face("fakepkg", "nonsense")


def test_the_real_faces_import_nothing_heavy():
    import layered.train

    assert "Learner" in layered.train.__all__ and "Recorder" in layered.train.__all__
    assert layered.train.callbacks.__name__ == "layered.train.callbacks"
