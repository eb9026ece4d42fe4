"""Every module declares `__all__`; the star-import modules export it all and shadow nothing common."""

import builtins
import importlib
import pkgutil

import pytest
from workspace import distributions

COMMON = {"all", "map", "filter", "Path", "list", "dict", "open", "print", "sum", "min", "max", "id", "type"}


def modules_of(part):
    pkg = importlib.import_module(f"layered.{part}")
    return [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]


@pytest.mark.parametrize("part", [d.import_name for d in distributions().values()])
def test_every_module_declares_all_with_documented_names(part):
    for name in modules_of(part):
        module = importlib.import_module(name)
        if name.endswith(".all"):
            continue
        assert hasattr(module, "__all__"), f"{name} has no __all__"
        for public in module.__all__:
            obj = getattr(module, public)
            if callable(obj) or isinstance(obj, type):
                assert (getattr(obj, "__doc__", None) or "").strip(), f"{name}.{public} has no docstring"


@pytest.mark.parametrize("part", ["core", "data", "train"])
def test_star_import_exports_everything_and_shadows_nothing(part):
    namespace = {}
    exec(f"from layered.{part}.all import *", namespace)
    exported = set(namespace) - {"__builtins__"}
    for name in modules_of(part):
        if not name.endswith(".all"):
            missing = set(importlib.import_module(name).__all__) - exported
            assert not missing, f"layered.{part}.all misses {sorted(missing)} from {name}"
    assert not exported & (set(dir(builtins)) | COMMON), exported & (set(dir(builtins)) | COMMON)


def test_meta_package_brings_everything():
    namespace = {}
    exec("from layered.all import *", namespace)
    assert {"L", "Transform", "DataBlock", "Learner", "Adam", "accuracy"} <= set(namespace)


def test_package_faces_are_up_to_date():
    from write_faces import ROOT, face_source, faces

    stale = [
        str(init.relative_to(ROOT))
        for init, package in faces()
        if init.read_text() != face_source(init, package)
    ]
    assert not stale, f"run `python scripts/write_faces.py`: {stale}"


@pytest.mark.parametrize("part", [d.import_name for d in distributions().values() if d.import_name != "all"])
def test_every_face_name_imports_from_the_package_and_matches_all(part):
    face = importlib.import_module(f"layered.{part}")
    star = {}
    exec(f"from layered.{part}.all import *", star)
    names = [n for n in face.__all__ if n != "__version__"]
    assert names, f"layered.{part} exports nothing"
    for name in names:
        assert getattr(face, name) is star.get(name), (
            f"layered.{part}.{name} is not what layered.{part}.all gives"
        )
    missing = set(names) - set(star)
    assert not missing, f"layered.{part}.all misses {sorted(missing)}"
