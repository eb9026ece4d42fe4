"""`layered` stays a PEP 420 namespace shared by every distribution."""

import importlib
from pathlib import Path

import pytest
from workspace import PACKAGES, distributions


def namespace_init_files(packages: Path) -> list[Path]:
    """Any `layered/__init__.py` a distribution ships (one would hide all other parts)."""
    return sorted(packages.glob("*/src/layered/__init__.py"))


def test_no_distribution_ships_layered_init():
    assert namespace_init_files(PACKAGES) == []


def test_the_check_finds_a_planted_init(tmp_path):
    (tmp_path / "layered-x/src/layered/x").mkdir(parents=True)
    (tmp_path / "layered-x/src/layered/__init__.py").write_text("")
    assert namespace_init_files(tmp_path) == [tmp_path / "layered-x/src/layered/__init__.py"]


def test_layered_is_a_namespace_spanning_every_part():
    import layered

    assert getattr(layered, "__file__", None) is None
    assert len(list(layered.__path__)) >= len(distributions())


@pytest.mark.parametrize("dist", list(distributions().values()), ids=lambda d: d.name)
def test_each_part_exposes_its_version(dist):
    module = importlib.import_module(f"layered.{dist.import_name}")
    assert module.__version__ == dist.version
    assert Path(module.__file__).is_relative_to(dist.source)
