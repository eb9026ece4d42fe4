"""Each distribution builds into a wheel holding only its own part, with the right requirements."""

import subprocess
import sys
import zipfile
from email.parser import Parser

import pytest
from workspace import distributions

DISTS = distributions()


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheels")
    built = {}
    for dist in DISTS.values():
        subprocess.run(
            [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
            cwd=dist.folder,
            check=True,
            capture_output=True,
            timeout=300,
        )
        stem = dist.name.replace("-", "_") + "-" + dist.version
        built[dist.name] = next(out.glob(f"{stem}-*.whl"))
    return built


@pytest.mark.parametrize("name", list(DISTS))
def test_wheel_holds_only_its_own_part(wheels, name):
    dist = DISTS[name]
    names = zipfile.ZipFile(wheels[name]).namelist()
    code = [n for n in names if not n.startswith(f"{name.replace('-', '_')}-{dist.version}.dist-info/")]
    assert code, "the wheel ships no code"
    assert all(n.startswith(f"layered/{dist.import_name}/") for n in code), code
    assert f"layered/{dist.import_name}/__init__.py" in code
    assert "layered/__init__.py" not in names


@pytest.mark.parametrize("name", list(DISTS))
def test_wheel_requires_exactly_what_pyproject_declares(wheels, name):
    with zipfile.ZipFile(wheels[name]) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(meta_name).decode())
    assert meta["Name"] == name
    assert meta["Version"] == DISTS[name].version
    requires = meta.get_all("Requires-Dist") or []
    base = [r for r in requires if "extra ==" not in r]
    assert sorted(base) == sorted(DISTS[name].requirements)
    # each optional extra's requirements, marked with the extra they belong to
    extras = {
        (r.split(";")[0].strip(), r.split("extra ==")[1].strip(" '\"")) for r in requires if "extra ==" in r
    }
    declared = {(req, extra) for extra, reqs in DISTS[name].extras.items() for req in reqs}
    assert extras == declared
