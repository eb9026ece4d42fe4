"""The build hook: a page's code runs, and each figure it draws becomes a PNG in the site, shown under its block."""

from types import SimpleNamespace

import pytest
from docs_figures import on_page_markdown
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files

PAGE = """# Plots

```python
import matplotlib.pyplot as plt

plt.plot([0, 1], [1, 0])
```

Text between.

```python
value = 1 + 1
```
"""


def build_context(tmp_path, src_uri):
    """A validated MkDocs configuration, a page at `src_uri` and an empty file collection."""
    (tmp_path / "docs").mkdir()
    config = MkDocsConfig()
    config.load_dict(
        {"site_name": "test", "docs_dir": str(tmp_path / "docs"), "site_dir": str(tmp_path / "site")}
    )
    errors, _ = config.validate()
    assert not errors
    # MkDocs sets this while it runs a plugin's event, and File.generated reads it
    config.plugins._current_plugin = None
    return config, SimpleNamespace(file=SimpleNamespace(src_uri=src_uri)), Files([])


def test_each_figure_is_added_to_the_site_and_shown_under_its_block(tmp_path):
    config, page, files = build_context(tmp_path, "guides/plots.md")
    markdown = on_page_markdown(PAGE, page=page, config=config, files=files)
    lines = markdown.split("\n")
    image = "![Figure drawn by the code above](../figures/plots-3-0.png)"
    assert image in lines
    assert lines.index(image) > lines.index("plt.plot([0, 1], [1, 0])")
    assert lines.index(image) < lines.index("Text between.")
    assert markdown.count("![") == 1  # the second block draws nothing
    (figure,) = list(files)
    assert figure.src_uri == "figures/plots-3-0.png"
    assert figure.content_bytes.startswith(b"\x89PNG")


def test_a_failing_block_fails_the_build_naming_page_and_line(tmp_path):
    config, page, files = build_context(tmp_path, "broken.md")
    with pytest.raises(PluginError, match=r"docs/broken\.md:3: the code block raised NameError"):
        on_page_markdown(
            "# Broken\n\n```python\nundefined_name\n```\n", page=page, config=config, files=files
        )
