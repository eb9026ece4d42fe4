"""The API reference covers every public module: the modules each package's all.py star-imports."""

import importlib

import pytest
from docs_api import PACKAGES, public_modules


@pytest.mark.parametrize("package", PACKAGES)
def test_public_modules_are_the_all_modules_own_imports(package):
    modules = public_modules(package)
    assert modules, f"layered.{package}.all names no module of its own"
    assert all(m.startswith(f"layered.{package}.") and not m.endswith(".all") for m in modules)
    all_module = importlib.import_module(f"layered.{package}.all")
    for module in modules:  # each page's module exists and gives names to the package's all
        names = importlib.import_module(module).__all__
        assert all(hasattr(all_module, n) for n in names), module


def test_train_reference_includes_the_rooms():
    modules = public_modules("train")
    assert "layered.train.learner" in modules
    assert "layered.train.callbacks.recorder" in modules
    assert "layered.train.optim.optimizer" in modules
