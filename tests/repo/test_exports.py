"""Every module declares `__all__`; the star-import modules export it all and shadow nothing common."""

import builtins
import functools
import importlib
import itertools
import pathlib
import pkgutil

import numpy
import pandas
import pytest
import torch
from workspace import distributions

# the names a notebook expects from the standard libraries: the application `all` modules give
# exactly these objects; core, data and train `all` (what library users star-import) give none
NOTEBOOK = {
    "np": numpy,
    "pd": pandas,
    "torch": torch,
    "nn": torch.nn,
    "F": torch.nn.functional,
    "Path": pathlib.Path,
    "partial": functools.partial,
}
COMMON = {
    "all",
    "map",
    "filter",
    "list",
    "dict",
    "open",
    "print",
    "sum",
    "min",
    "max",
    "id",
    "type",
    *NOTEBOOK,
}
APPLICATIONS = ["vision", "text", "tabular", "collab"]


def modules_of(part, private=True):
    pkg = importlib.import_module(f"layered.{part}")
    names = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
    return [n for n in names if private or not n.rsplit(".", 1)[1].startswith("_")]


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
    for name in modules_of(part, private=False):  # a private module's names are its package's helpers
        if not name.endswith(".all"):
            missing = set(importlib.import_module(name).__all__) - exported
            assert not missing, f"layered.{part}.all misses {sorted(missing)} from {name}"
    assert not exported & (set(dir(builtins)) | COMMON), exported & (set(dir(builtins)) | COMMON)


@pytest.mark.parametrize("part", APPLICATIONS)
def test_application_star_import_gives_the_notebook_names_and_shadows_nothing_else(part):
    namespace = {}
    exec(f"from layered.{part}.all import *", namespace)
    exported = set(namespace) - {"__builtins__"}
    for name in modules_of(part, private=False):
        if not name.endswith(".all"):
            missing = set(importlib.import_module(name).__all__) - exported
            assert not missing, f"layered.{part}.all misses {sorted(missing)} from {name}"
    for name, obj in NOTEBOOK.items():
        assert namespace.get(name) is obj, f"layered.{part}.all binds {name} to {namespace.get(name)!r}"
    clashes = exported & (set(dir(builtins)) | COMMON) - set(NOTEBOOK)
    assert not clashes, clashes


def test_star_importing_applications_in_any_order_binds_one_object_per_name():
    seen: dict[str, object] = {}
    for part in APPLICATIONS + ["core", "data", "train"]:
        namespace = {}
        exec(f"from layered.{part}.all import *", namespace)
        for name, obj in namespace.items():
            if name != "__builtins__":
                assert seen.setdefault(name, obj) is obj, (
                    f"{name} is {obj!r} in layered.{part}.all but {seen[name]!r} in another all module"
                )
    for order in itertools.permutations(APPLICATIONS):
        namespace = {}
        for part in order:
            exec(f"from layered.{part}.all import *", namespace)
        assert all(namespace[n] is seen[n] for n in namespace if n != "__builtins__"), order
    from layered.data.normalize import Normalize

    assert seen["Normalize"] is Normalize
    assert {"TabularNormalize", "ImageNormalize", "resnet34", "efficientnet_b0"} <= set(seen)


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
