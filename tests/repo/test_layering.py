"""The three layering checks hold on the real tree and each one catches a planted violation."""

import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from check_dependencies import undeclared_imports
from check_isolation import check_isolation
from workspace import ROOT, Distribution, distributions

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def run_lint_imports(cwd: Path, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(cwd)}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


def test_import_contracts_hold():
    out = run_lint_imports(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 kept, 0 broken" in out.stdout


def renamed_copy(tmp_path: Path) -> Path:
    """All layered sources merged under a fresh root package `planted`, with the real contracts."""
    site = tmp_path / "site"
    for dist in distributions().values():
        shutil.copytree(dist.source, site / "planted" / dist.import_name)
    for path in site.rglob("*.py"):
        path.write_text(re.sub(r"\blayered\.", "planted.", path.read_text()))
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[importlinter]", "root_package = planted", "include_external_packages = True"]
    for i, contract in enumerate(config["contracts"]):
        lines += [
            "",
            f"[importlinter:contract:{i}]",
            f"name = {contract['name']}",
            f"type = {contract['type']}",
        ]
        for key in ("layers", "source_modules", "forbidden_modules", "ancestors", "ignore_imports"):
            if key in contract:
                values = [v.replace("layered.", "planted.") for v in contract[key]]
                lines.append(f"{key} =\n" + "\n".join(f"    {v}" for v in values))
        if "unmatched_ignore_imports_alerting" in contract:
            lines.append(
                f"unmatched_ignore_imports_alerting = {contract['unmatched_ignore_imports_alerting']}"
            )
    (tmp_path / ".importlinter").write_text("\n".join(lines) + "\n")
    return site


@pytest.mark.parametrize(
    ("planted_in", "code", "expected"),
    [
        ("core", "import planted.vision\n", "planted.core.planted -> planted.vision"),
        ("data", "from planted.train import errors\n", "planted.data.planted -> planted.train"),
        ("train", "def f():\n    import torchvision\n", "planted.train.planted -> torchvision"),
    ],
)
def test_import_contracts_catch_planted_violation(tmp_path, planted_in, code, expected):
    site = renamed_copy(tmp_path)
    assert run_lint_imports(tmp_path, str(site)).returncode == 0  # the clean copy passes
    (site / "planted" / planted_in / "planted.py").write_text(code)
    out = run_lint_imports(tmp_path, str(site))
    assert out.returncode != 0
    assert "BROKEN" in out.stdout and expected in out.stdout, out.stdout


@pytest.mark.parametrize("part", ["data", "train", "vision"])
def test_acyclic_contract_catches_a_planted_cycle_hidden_in_a_function(tmp_path, part):
    site = renamed_copy(tmp_path)
    folder = site / "planted" / part
    (folder / "planted_low.py").write_text(f"def later():\n    from planted.{part} import planted_high\n")
    (folder / "planted_high.py").write_text(f"from planted.{part} import planted_low\n")
    out = run_lint_imports(tmp_path, str(site))
    assert out.returncode != 0
    assert f"No cycles are allowed in planted.{part}" in out.stdout, out.stdout
    assert "planted_low -> .planted_high" in out.stdout or "planted_high -> .planted_low" in out.stdout, (
        out.stdout
    )


def test_acyclic_contract_catches_a_cycle_between_rooms(tmp_path):
    site = renamed_copy(tmp_path)
    # the loop's callbacks room already imports layered.train.callback; the reverse closes a cycle
    (site / "planted" / "train" / "callback.py").write_text(
        (site / "planted" / "train" / "callback.py").read_text()
        + "\nfrom planted.train.callbacks import recorder\n"
    )
    out = run_lint_imports(tmp_path, str(site))
    assert out.returncode != 0
    assert "No cycles are allowed in planted.train" in out.stdout, out.stdout


@pytest.mark.parametrize("name", list(distributions()))
def test_each_layer_imports_in_isolation(name):
    assert check_isolation(distributions()[name]) == []


def test_isolation_catches_dynamic_upward_import(tmp_path):
    dists = distributions()
    copy = tmp_path / "layered-core"
    shutil.copytree(dists["layered-core"].folder, copy)
    (copy / "src/layered/core/sneaky.py").write_text(
        'import importlib\nimportlib.import_module("layered.data")\n'
    )
    dists["layered-core"] = Distribution(copy)
    problems = check_isolation(dists["layered-core"], dists)
    assert any("layered.core.sneaky" in p and "layered.data" in p for p in problems), problems


@pytest.mark.parametrize("name", list(distributions()))
def test_third_party_imports_are_declared(name):
    assert undeclared_imports(distributions()[name]) == []


def test_dependency_check_catches_undeclared_imports(tmp_path):
    dists = distributions()
    copy = tmp_path / "layered-data"
    shutil.copytree(dists["layered-data"].folder, copy)
    (copy / "src/layered/data/planted.py").write_text(
        textwrap.dedent("""
            import json
            import requests
            from layered.train import errors
            def lazy():
                import sklearn.metrics
        """)
    )
    dists["layered-data"] = Distribution(copy)
    problems = undeclared_imports(dists["layered-data"], dists)
    assert len(problems) == 3, problems
    assert any("imports requests" in p for p in problems)
    assert any("imports sklearn (distribution scikit-learn)" in p for p in problems)
    assert any("layered.train is not below it" in p for p in problems)


def test_an_optional_extra_may_be_imported_only_inside_a_function(tmp_path):
    dists = distributions()
    assert dists["layered-train"].optional_names["onnxruntime"] == "onnx"
    copy = tmp_path / "layered-train"
    shutil.copytree(dists["layered-train"].folder, copy)
    (copy / "src/layered/train/planted.py").write_text(
        textwrap.dedent("""
            import mlflow

            def lazy():
                import wandb
                import onnxruntime
        """)
    )
    dists["layered-train"] = Distribution(copy)
    problems = undeclared_imports(dists["layered-train"], dists)
    assert len(problems) == 1, problems
    assert "imports mlflow at module level" in problems[0] and "layered-train[mlflow]" in problems[0]
