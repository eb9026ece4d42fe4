"""`layered.all`, the meta-package's star-import module: everything, without the heavy optional imports."""

import subprocess
import sys

HEAVY = ("matplotlib", "sklearn", "spacy", "sentencepiece", "torchvision.models", "IPython", "tensorboard")


def test_import_layered_all_leaves_the_heavy_optional_libraries_unloaded():
    code = (
        "import sys, layered.all\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(layered.all.resnet34.__name__, layered.all.Normalize.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded, names = out.stdout.splitlines()
    assert loaded == "", f"import layered.all loaded {loaded}, which should wait until first use"
    assert names == "resnet34 layered.data.normalize"
