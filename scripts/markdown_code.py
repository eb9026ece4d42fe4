"""Find the ```python blocks of a Markdown page and run them in order, in one namespace.

Used by the documentation build (scripts/docs_figures.py, which shows the figures each block draws)
and by the tests (tests/docs), so a page whose code breaks fails both. A block whose fence says
```python slow``` needs real data or long training: it runs only when slow blocks are asked for.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

FENCE_OPTIONS = {"slow"}


class DocsCodeError(Exception):
    """A page's code block is malformed or raised while it ran; the message names the page and line."""


@dataclass(frozen=True)
class CodeBlock:
    """One ```python block: its source, its page, the lines of its opening fence and after its closing one."""

    source: str
    page: str
    line: int
    end: int
    slow: bool

    @property
    def where(self) -> str:
        """`page:line`, for error messages and tracebacks."""
        return f"{self.page}:{self.line}"


def code_blocks(markdown: str, page: str = "<page>") -> list[CodeBlock]:
    """The ```python blocks of `markdown` in page order; an unknown fence option is an error."""
    blocks = []
    for token in MarkdownIt("commonmark").parse(markdown):
        words = token.info.split() if token.type == "fence" else []
        if not words or words[0] != "python":
            continue
        line = token.map[0] + 1
        unknown = sorted(set(words[1:]) - FENCE_OPTIONS)
        if unknown:
            raise DocsCodeError(
                f"{page}:{line}: unknown fence option(s) {unknown} after ```python; expected one of {sorted(FENCE_OPTIONS)}"
            )
        blocks.append(CodeBlock(token.content, page, line, token.map[1], slow="slow" in words[1:]))
    return blocks


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """Run inside a fresh temporary folder (pages write exports and data there), then go back."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="layered-docs-") as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(previous)


def open_figures() -> list:
    """The matplotlib figures left open by the code so far (none when matplotlib was never imported)."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    plt = sys.modules["matplotlib.pyplot"]
    return [plt.figure(n) for n in plt.get_fignums()]


def close_figures() -> None:
    """Close every open matplotlib figure."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def run_blocks(
    blocks: list[CodeBlock],
    include_slow: bool = False,
    after_block: Callable[[CodeBlock, list], None] | None = None,
) -> dict:
    """Run `blocks` in order in one namespace inside a scratch folder; return the namespace.

    After each block, `after_block(block, figures)` gets the figures it left open, which are then
    closed. A slow block is skipped unless `include_slow` (so the blocks after it must not need what
    it makes). A failing block raises `DocsCodeError` naming its page and line.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__docs__"}
    close_figures()
    with scratch_folder():
        for block in blocks:
            if block.slow and not include_slow:
                continue
            try:
                exec(compile(block.source, block.where, "exec"), namespace)
            except Exception as error:
                raise DocsCodeError(f"{block.where}: the code block raised {error!r}") from error
            if after_block is not None:
                after_block(block, open_figures())
            close_figures()
    return namespace
