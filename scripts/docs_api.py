"""Write the API reference pages at build time: one page per public module of every distribution.

Run by mkdocs-gen-files (mkdocs.yml). The public modules are those each package's `all.py` star-imports
from itself, so a module added to an `all.py` gets its page on the next build with no other edit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
# the order of the layers, lowest first (the meta-package `layered` only re-exports these)
PACKAGES = ["core", "data", "train", "vision", "text", "tabular", "collab"]


def public_modules(package: str) -> list[str]:
    """The dotted names of the modules `layered.<package>.all` star-imports from its own package."""
    all_py = ROOT / "packages" / f"layered-{package}" / "src" / "layered" / package / "all.py"
    if not all_py.is_file():
        raise FileNotFoundError(f"{all_py}: every distribution needs an all.py naming its public modules")
    prefix = f"layered.{package}."
    modules = [
        node.module
        for node in ast.parse(all_py.read_text()).body
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith(prefix)
        and any(alias.name == "*" for alias in node.names)
    ]
    return sorted(set(modules))


def write_reference() -> None:
    """One page per public module under api/, the API index page and api/SUMMARY.md for literate-nav."""
    nav = mkdocs_gen_files.Nav()
    index = [
        "# API reference",
        "",
        "Generated from the docstrings of every public module, layer by layer.",
        "",
    ]
    nav["Overview"] = "index.md"
    for package in PACKAGES:
        index += [f"## layered-{package}", ""]
        for module in public_modules(package):
            parts = module.split(".")[1:]  # ["train", "callbacks", "recorder"]
            doc_path = Path(*parts).with_suffix(".md")
            with mkdocs_gen_files.open(Path("api") / doc_path, "w") as page:
                page.write(f"::: {module}\n")
            mkdocs_gen_files.set_edit_path(Path("api") / doc_path, Path("..") / "scripts" / "docs_api.py")
            nav[(f"layered.{parts[0]}", *parts[1:])] = doc_path.as_posix()
            index.append(f"- [`{module}`]({doc_path.as_posix()})")
        index.append("")
    with mkdocs_gen_files.open("api/index.md", "w") as page:
        page.write("\n".join(index))
    with mkdocs_gen_files.open("api/SUMMARY.md", "w") as summary:
        summary.writelines(nav.build_literate_nav())


if __name__ in {"__main__", "<run_path>"}:  # run by mkdocs-gen-files; importable by the tests
    write_reference()
