"""Check that each distribution declares the third-party packages its code imports.

A distribution may import a third-party package that it declares itself or that a layered
distribution it depends on declares (the layers add to each other), and may import only the
layered parts in that same chain. A package of one of its optional extras
(`[project.optional-dependencies]`) may be imported only inside a function, where it is used, so
that importing the distribution never needs the extra. Usage: python scripts/check_dependencies.py
"""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workspace import Distribution, distributions

__all__ = ["imported_modules", "main", "undeclared_imports"]


def imported_modules(source: Path) -> list[tuple[Path, int, str]]:
    """Every absolute import under `source` as (file, line, dotted module name)."""
    return [(path, line, module) for path, line, module, _ in _imports(source)]


def _imports(source: Path) -> list[tuple[Path, int, str, bool]]:
    """Every absolute import under `source` as (file, line, dotted module name, inside a function)."""
    found = []
    for path in sorted(source.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        lazy = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, node.lineno, alias.name, id(node) in lazy) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.lineno, node.module, id(node) in lazy))
    return found


def _closure(dist: Distribution, dists: dict[str, Distribution]) -> list[Distribution]:
    """The distribution and every layered distribution it depends on, transitively."""
    seen, todo = {}, [dist]
    while todo:
        d = todo.pop()
        if d.name not in seen:
            seen[d.name] = d
            todo += [dists[n] for n in d.sibling_names if n in dists]
    return list(seen.values())


def undeclared_imports(dist: Distribution, dists: dict[str, Distribution] | None = None) -> list[str]:
    """Problems found in `dist`: imports of packages or layered parts it does not declare."""
    dists = distributions() if dists is None else dists
    chain = _closure(dist, dists)
    declared = set().union(*(d.dependency_names for d in chain))
    optional = {name: (d.name, extra) for d in chain for name, extra in d.optional_names.items()}
    parts = {d.import_name for d in chain}
    owners = {k: [n.lower().replace("_", "-") for n in v] for k, v in packages_distributions().items()}
    problems = []
    for path, line, module, lazy in _imports(dist.source):
        top = module.split(".")[0]
        where = f"{path.relative_to(dist.folder)}:{line}"
        if top == "layered":
            part = module.split(".")[1] if "." in module else ""
            if part not in parts:
                problems.append(f"{dist.name}: {where} imports {module}, but layered.{part} is not below it")
        elif top not in sys.stdlib_module_names and top != "__future__":
            names = owners.get(top, [top.lower()])
            extra = next((optional[n] for n in names if n in optional), None)
            if extra is not None and not declared.intersection(names):
                if not lazy:
                    problems.append(
                        f"{dist.name}: {where} imports {top} at module level, but it is only in the "
                        f"optional extra {extra[0]}[{extra[1]}]: import it inside the function that uses it"
                    )
            elif not declared.intersection(names):
                problems.append(
                    f"{dist.name}: {where} imports {top} (distribution {names[0]}), "
                    f"which neither {dist.name} nor the layers under it declare"
                )
    return problems


def main() -> int:
    """Print every problem; exit status 1 if there is any."""
    dists = distributions()
    problems = [p for d in dists.values() for p in undeclared_imports(d, dists)]
    print("\n".join(problems) or f"dependencies declared: {len(dists)} distributions checked")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
