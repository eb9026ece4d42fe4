"""Every ```python block of every page in docs/ runs: in page order, in one namespace per page."""

from pathlib import Path

import pytest
from markdown_code import code_blocks, run_blocks

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def page_blocks(page: Path):
    """The code blocks of a page, named as docs/<page>:<line> in errors."""
    return code_blocks(page.read_text(), f"docs/{page.name}")


def test_pages_are_found():
    names = {p.name for p in PAGES}
    assert {"index.md", "getting-started.md", "core.md", "data.md", "train.md", "vision.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_runs(page):
    """Every block not marked slow runs, in page order."""
    blocks = page_blocks(page)
    ran = []
    run_blocks(blocks, after_block=lambda block, figures: ran.append(block))
    assert ran == [b for b in blocks if not b.slow]


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", [p for p in PAGES if any(b.slow for b in page_blocks(p))], ids=lambda p: p.name
)
def test_page_slow_code_runs(page):
    """With real data and full training, every block of the page runs."""
    ran = []
    run_blocks(page_blocks(page), include_slow=True, after_block=lambda block, figures: ran.append(block))
    assert len(ran) == len(page_blocks(page))
