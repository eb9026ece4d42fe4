"""The runner of the pages' code blocks: what it finds, what it runs, and how it reports a failure."""

import pytest
from markdown_code import DocsCodeError, code_blocks, run_blocks

PAGE = """# A page

```python
x = 2
```

Prose, and a block in another language that is not run:

```bash
rm -rf /
```

```python
y = x * 21
import matplotlib.pyplot as plt
plt.plot([1, 2])
```

```python slow
z = y + 1
```

```python
w = y - 2
```
"""


def test_finds_python_blocks_with_their_lines_and_marks():
    blocks = code_blocks(PAGE, "docs/p.md")
    assert [(b.line, b.slow) for b in blocks] == [(3, False), (13, False), (19, True), (23, False)]
    assert blocks[0].source == "x = 2\n"
    assert blocks[1].where == "docs/p.md:13"
    assert blocks[0].end == 5  # 0-based index of the line after the closing fence


def test_blocks_share_one_namespace_and_slow_ones_are_skipped():
    seen = []
    namespace = run_blocks(code_blocks(PAGE), after_block=lambda b, figs: seen.append((b.line, len(figs))))
    assert namespace["y"] == 42 and "z" not in namespace and namespace["w"] == 40
    assert seen == [(3, 0), (13, 1), (23, 0)]  # the second block left one figure open
    assert run_blocks(code_blocks(PAGE), include_slow=True)["z"] == 43


def test_a_failing_block_is_named_by_page_and_line():
    with pytest.raises(DocsCodeError, match=r"docs/bad\.md:5: the code block raised ZeroDivisionError"):
        run_blocks(code_blocks("text\n\nmore\n\n```python\n1 / 0\n```\n", "docs/bad.md"))


def test_an_unknown_fence_option_is_refused():
    with pytest.raises(DocsCodeError, match=r"docs/x\.md:1: unknown fence option\(s\) \['quick'\]"):
        code_blocks("```python quick\npass\n```\n", "docs/x.md")


def test_blocks_run_in_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_blocks(code_blocks("```python\nopen('made.txt', 'w').write('x')\n```\n"))
    assert not (tmp_path / "made.txt").exists()
