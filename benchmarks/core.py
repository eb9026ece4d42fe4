"""layered-core overheads against plain Python and plain PyTorch, measured side by side in one run.

(1) TypeDispatch with 6 registered types: a cached lookup and a dispatched call, in ns;
(2) a 3-transform Pipeline over 100k items vs the same three functions called in a loop;
(3) operations on a TensorBase subclass vs the same operations on a plain tensor;
(4) `import layered.all` in a fresh interpreter vs `import torch` alone (limit: 0.6 s more).
Every case is timed interleaved with its reference and reported as the median of the repeats;
torch keeps its default number of threads.
Run: python benchmarks/core.py [--repeats N] [--import-pairs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
from _timing import fmt_time, interleaved, print_table, ratio_row, verdict

from layered.core.dispatch import TypeDispatch
from layered.core.pipeline import Pipeline
from layered.core.tensor_types import TensorBase

N_ITEMS = 100_000


class TImage(TensorBase):
    """The semantic tensor type measured in (3)."""


def on_int(x: int):
    return x


def on_float(x: float):
    return x


def on_str(x: str):
    return x


def on_bytes(x: bytes):
    return x


def on_list(x: list):
    return x


def on_tensor(x: torch.Tensor):
    return x


def double(x):
    return x * 2


def shift(x):
    return x + 1


def lower(x):
    return x - 3


def dispatch_rows(repeats: int) -> list[list[str]]:
    """(1): ns per cached lookup or dispatched call, against a dict lookup and a direct call."""
    funcs = [on_int, on_float, on_str, on_bytes, on_list, on_tensor]
    namespace = {
        "td": TypeDispatch(funcs),
        "d": dict(zip((int, float, str, bytes, list, torch.Tensor), funcs)),
        "f": on_float,
        "x": 1.5,
    }
    assert namespace["td"][float] is on_float and namespace["td"](1.5) == 1.5
    # statements, not lambdas: a wrapper call would cost as much as the thing measured
    cases = {"lookup": "td.lookup(float)", "item": "td[float]", "dict": "d[float]"}
    cases.update({"call": "td(x)", "f": "f(x)"})
    t = interleaved(cases, number=200_000, repeats=repeats, namespace=namespace)
    rows = []
    for label, ours, plain, limit in (
        ("cached `td.lookup(float)` vs `dict[float]`", "lookup", "dict", 300e-9),
        ("cached `td[float]` vs `dict[float]`", "item", "dict", 500e-9),
        ("dispatched call `td(1.5)` vs direct call `f(1.5)`", "call", "f", 1e-6),
    ):
        rows.append(
            [
                label,
                fmt_time(t[ours]),
                fmt_time(t[plain]),
                f"{t[ours] / t[plain]:.1f}x",
                f"≤{fmt_time(limit)}",
                verdict(t[ours], limit),
            ]
        )
    return rows


def pipeline_rows(repeats: int) -> list[list[str]]:
    """(2): one pass of 100k items through Pipeline([double, shift, lower]) vs a loop calling the three."""
    pipe = Pipeline([double, shift, lower])
    rows = []
    for label, items in (
        ("Python ints (per-item work ≈ 0: pure overhead)", list(range(N_ITEMS))),
        ("16-float tensors (one small torch op per function)", list(torch.randn(N_ITEMS, 16))),
    ):
        sample = items[: N_ITEMS // 100]
        same = (
            torch.equal(torch.as_tensor(pipe(o)), torch.as_tensor(lower(shift(double(o))))) for o in sample
        )
        assert all(same), f"the pipeline and the plain loop disagree on {label}"

        def through_pipeline(items=items):
            for o in items:
                pipe(o)

        def plain_loop(items=items):
            for o in items:
                lower(shift(double(o)))

        t = interleaved({"ours": through_pipeline, "plain": plain_loop}, number=1, repeats=repeats)
        row = ratio_row(f"{N_ITEMS:,} {label}", t["ours"], t["plain"], 1.5)
        rows.append(row + [fmt_time((t["ours"] - t["plain"]) / N_ITEMS / len(pipe))])
    return rows


def tensor_rows(repeats: int) -> list[list[str]]:
    """(3): the same operations on TImage tensors and on plain tensors holding the same data."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(1000, 1000, generator=g), torch.randn(1000, 1000, generator=g)
    m1, m2 = torch.randn(256, 256, generator=g), torch.randn(256, 256, generator=g)
    idx = torch.randint(0, 1000, (1000,), generator=g)
    namespace = {
        "x": x,
        "y": y,
        "m1": m1,
        "m2": m2,
        "idx": idx,
        "tx": TImage(x),
        "ty": TImage(y),
        "tm1": TImage(m1),
        "tm2": TImage(m2),
    }
    rows = []
    for label, ours, plain, number in (
        ("elementwise `((x + y) * y).sum()`, 1000x1000", "((tx + ty) * ty).sum()", "((x + y) * y).sum()", 20),
        ("matmul `x @ y`, 256x256", "tm1 @ tm2", "m1 @ m2", 50),
        ("indexing `x[idx]`, 1000 rows of 1000", "tx[idx]", "x[idx]", 50),
        ("slicing `x[10:20]` (a view: per-op overhead only)", "tx[10:20]", "x[10:20]", 5000),
    ):
        result = eval(ours, namespace)
        assert type(result) is TImage, f"{ours} returned {type(result).__name__}, expected TImage"
        assert torch.equal(result.as_subclass(torch.Tensor), eval(plain, namespace))
        t = interleaved({"ours": ours, "plain": plain}, number=number, repeats=repeats, namespace=namespace)
        rows.append(ratio_row(label, t["ours"], t["plain"], 1.2))
    return rows


def _fresh_import_seconds(module: str, env: dict | None = None) -> float:
    """Wall time of a fresh interpreter that imports `module` and exits (start-up included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
    return time.perf_counter() - start


def _warm_bytecode() -> None:
    """Import everything once with bytecode caching on, as an installed package has it.

    pip compiles a wheel's modules when it installs them; an editable checkout run with
    PYTHONDONTWRITEBYTECODE set would otherwise recompile every layered module in every
    interpreter, measuring the compiler rather than the import.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    _fresh_import_seconds("layered.all", env=env)


def import_rows(pairs: int) -> list[list[str]]:
    """(4): fresh `import layered.all` vs fresh `import torch`, alternating, median of `pairs` pairs."""
    _warm_bytecode()  # and the file-system cache
    ours, plain = [], []
    for i in range(pairs):
        # alternate which goes first, so a slow moment of the machine hits both sides alike
        first, second = ("layered.all", "torch") if i % 2 == 0 else ("torch", "layered.all")
        times = {first: _fresh_import_seconds(first), second: _fresh_import_seconds(second)}
        ours.append(times["layered.all"])
        plain.append(times["torch"])
    extra = statistics.median(o - p for o, p in zip(ours, plain))
    return [
        [
            f"`import layered.all` vs `import torch`, fresh interpreters, median of {pairs} pairs",
            fmt_time(statistics.median(ours)),
            fmt_time(statistics.median(plain)),
            fmt_time(extra),
            "≤0.60 s more",
            verdict(extra, 0.6),
        ]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--import-pairs", type=int, default=9)
    parser.add_argument("--only-import", action="store_true", help="run section (4) alone")
    args = parser.parse_args()
    r = args.repeats
    threads = torch.get_num_threads()
    print(
        f"Python {platform.python_version()}, torch {torch.__version__}, {threads} threads, "
        f"median of {r} interleaved repeats\n"
    )
    if not args.only_import:
        print_core_tables(r)
    print("\n(4) Import time: a fresh interpreter importing everything vs one importing torch alone\n")
    print_table(
        ["case", "layered", "torch alone", "median difference", "target", "result"],
        import_rows(args.import_pairs),
    )


def print_core_tables(r: int) -> None:
    """Sections (1) to (3)."""
    print("(1) TypeDispatch with 6 registered types (the target is on the layered time)\n")
    print_table(["case", "layered", "plain", "ratio", "target", "result"], dispatch_rows(r))
    print("\n(2) Pipeline([double, shift, lower]) vs `lower(shift(double(x)))`, one pass over the items\n")
    print_table(
        ["items", "layered", "plain", "ratio", "target", "result", "overhead per item per transform"],
        pipeline_rows(r),
    )
    print("\n(3) TImage(TensorBase) vs plain torch.Tensor, time per operation\n")
    print_table(["operation", "layered", "plain", "ratio", "target", "result"], tensor_rows(r))


if __name__ == "__main__":
    main()
