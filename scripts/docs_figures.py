"""MkDocs hook: run each guide's ```python blocks at build time and show the figures they draw.

Every figure a block leaves open (`show_batch`, `plot_loss`, `lr_find`, a confusion matrix...) is
saved as a PNG into the built site and shown under that block, so the pictures always come from the
code on the page as it is now. Blocks marked ```python slow``` are not run by the build.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown_code import CodeBlock, DocsCodeError, code_blocks, run_blocks


def figure_png(figure) -> bytes:
    """The figure as PNG bytes, cropped to what it draws."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    """Run the page's code; add each figure to the site and an image of it under its block."""
    page_uri = page.file.src_uri
    try:
        blocks = code_blocks(markdown, f"docs/{page_uri}")
    except DocsCodeError as error:
        raise PluginError(str(error)) from error
    images: dict[int, list[str]] = {}  # the line after a block's closing fence -> image links

    def keep_figures(block: CodeBlock, figures: list) -> None:
        for number, figure in enumerate(figures):
            uri = f"figures/{Path(page_uri).stem}-{block.line}-{number}.png"
            files.append(File.generated(config, uri, content=figure_png(figure)))
            link = posixpath.relpath(uri, posixpath.dirname(page_uri) or ".")
            images.setdefault(block.end, []).append(f"![Figure drawn by the code above]({link})")

    printed = io.StringIO()  # progress bars and tables: shown only when a block fails
    if blocks:
        try:
            with contextlib.redirect_stdout(printed):
                run_blocks(blocks, include_slow=False, after_block=keep_figures)
        except DocsCodeError as error:
            raise PluginError(f"{error}\n--- what the page printed:\n{printed.getvalue()[-3000:]}") from error
    lines = markdown.split("\n")
    for end in sorted(images, reverse=True):
        lines[end:end] = ["", *images[end], ""]
    return "\n".join(lines)
