"""Make the documentation scripts (scripts/markdown_code.py, scripts/docs_api.py) importable by these tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
