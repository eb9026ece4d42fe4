"""One version for every distribution, exact sibling pins, and a bump script that keeps them so."""

import shutil

from bump_version import bump
from workspace import ROOT, Distribution, distributions, requirement_name


def version_problems(dists: dict[str, Distribution]) -> list[str]:
    """Disagreeing versions and sibling pins that are not `==` the shared version."""
    versions = {d.version for d in dists.values()}
    problems = [f"versions disagree: {sorted(versions)}"] if len(versions) > 1 else []
    for d in dists.values():
        for req in d.requirements:
            if requirement_name(req) in dists and req != f"{requirement_name(req)}=={d.version}":
                problems.append(f"{d.name} pins {req!r}, expected =={d.version}")
    return problems


def test_versions_agree_and_pins_are_exact():
    assert version_problems(distributions()) == []


def test_every_layer_depends_on_the_one_below():
    dists = distributions()
    assert dists["layered-core"].sibling_names == set()
    assert dists["layered-data"].sibling_names == {"layered-core"}
    assert dists["layered-train"].sibling_names == {"layered-data"}
    for app in ("layered-vision", "layered-text", "layered-tabular"):
        assert dists[app].sibling_names == {"layered-train"}
    assert dists["layered-collab"].sibling_names == {"layered-tabular"}
    assert dists["layered"].sibling_names == set(dists) - {"layered"}


def test_the_check_catches_a_stale_pin(tmp_path):
    copy = tmp_path / "layered-data"
    shutil.copytree(ROOT / "packages/layered-data", copy, ignore=shutil.ignore_patterns("src"))
    text = (copy / "pyproject.toml").read_text()
    (copy / "pyproject.toml").write_text(text.replace('"layered-core==', '"layered-core>='))
    dists = distributions() | {"layered-data": Distribution(copy)}
    assert any("layered-data pins 'layered-core>=" in p for p in version_problems(dists))


def test_bump_script_rewrites_every_version(tmp_path):
    shutil.copytree(ROOT / "packages", tmp_path / "packages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    changed = bump(tmp_path, "9.8.7")
    assert len(changed) >= 2 * len(distributions())
    bumped = {
        Distribution(p.parent).name: Distribution(p.parent)
        for p in tmp_path.glob("packages/*/pyproject.toml")
    }
    assert {d.version for d in bumped.values()} == {"9.8.7"}
    assert version_problems(bumped) == []
    for d in bumped.values():
        assert '__version__ = "9.8.7"' in (d.source / "__init__.py").read_text()
