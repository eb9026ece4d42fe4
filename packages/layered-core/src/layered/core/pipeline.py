"""Pipeline: transforms composed in `order`, with setup, decode and show."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from layered.core.collection import L
from layered.core.transform import Transform

__all__ = ["Pipeline"]


def _flatten(funcs) -> list:
    if funcs is None:
        return []
    if isinstance(funcs, Pipeline):
        return list(funcs.fs)
    if isinstance(funcs, (list, tuple, L)):
        return [f for g in funcs for f in _flatten(g)]
    return [funcs]


class _Mapped:
    """A lazy view of `items` through `fs`: what a transform's `setups` sees during `Pipeline.setup`."""

    def __init__(self, items, fs: list[Transform], split_idx: int | None):
        self.items, self.fs, self.split_idx = items, fs, split_idx

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        x = self.items[i]
        for f in self.fs:
            x = f(x, split_idx=self.split_idx)
        return x

    def __iter__(self):
        for i in range(len(self.items)):
            yield self[i]

    def __getattr__(self, name: str):
        # lets a setups read what an earlier transform learned (e.g. a `vocab`)
        if name.startswith("_"):
            raise AttributeError(name)
        for f in reversed(self.fs):
            if name in getattr(f, "__dict__", {}):
                return getattr(f, name)
        raise AttributeError(name)


class Pipeline:
    """Compose transforms (plain functions are wrapped) sorted by their `order`.

    `pipe(x)` applies them in order, `pipe.decode(x)` undoes them in reverse, and
    `pipe.setup(items)` sets each one up on the items passed through the ones before it.
    """

    def __init__(self, funcs: Callable | Iterable | None = None, split_idx: int | None = None):
        fs = [f if isinstance(f, Transform) else Transform(f) for f in _flatten(funcs)]
        self._split_idx = split_idx
        self.fs = L(sorted(fs, key=lambda f: f.order))

    @property
    def fs(self) -> L:
        """The transforms, in the order they run."""
        return self._fs

    @fs.setter
    def fs(self, fs) -> None:
        self._fs = L(fs)
        self._refresh()

    @property
    def split_idx(self) -> int | None:
        """The subset this pipeline runs on (0 train, 1 valid, None: all); set on every call."""
        return self._split_idx

    @split_idx.setter
    def split_idx(self, value: int | None) -> None:
        self._split_idx = value
        self._refresh()

    def _refresh(self) -> None:
        # The transforms that run on this split, as bound `encode`s: the per-item hot path.
        self._encoders = [f.encode for f in self._fs if f.split_idx is None or f.split_idx == self._split_idx]

    def setup(self, items: Any = None, train_setup: bool = False) -> None:
        """Set up each transform on `items` mapped through the transforms before it."""
        fs, self.fs = list(self.fs), L()
        for f in fs:
            self.add(f, items, train_setup)

    def add(self, tfm: Callable, items: Any = None, train_setup: bool = False) -> None:
        """Set up `tfm` on `items` through the current transforms, then append it (keeping `order`)."""
        tfm = tfm if isinstance(tfm, Transform) else Transform(tfm)
        seen = (
            _Mapped(items, list(self.fs), 0 if train_setup else self.split_idx) if items is not None else None
        )
        tfm.setup(seen, train_setup)
        self.fs = L(sorted([*self.fs, tfm], key=lambda f: f.order))

    def __call__(self, x: Any) -> Any:
        for encode in self._encoders:
            x = encode(x)
        return x

    def decode(self, x: Any, full: bool = True) -> Any:
        """Undo the transforms in reverse order; with `full=False`, stop once the value can `show`."""
        for f in reversed(self.fs):
            if not full and hasattr(x, "show"):
                break
            x = f.decode(x, split_idx=self.split_idx)
        return x

    def show(self, x: Any, ctx=None, **kwargs) -> Any:
        """Decode `x` step by step and show the first value that has a `show` method."""
        for f in reversed(self.fs):
            if hasattr(x, "show"):
                break
            x = f.decode(x, split_idx=self.split_idx)
        if not hasattr(x, "show"):
            raise TypeError(f"Pipeline.show: the decoded value {type(x).__name__} has no show method")
        return x.show(ctx=ctx, **kwargs)

    def __getitem__(self, i: int) -> Transform:
        return self.fs[i]

    def __len__(self) -> int:
        return len(self.fs)

    def __repr__(self) -> str:
        return "Pipeline: " + (" -> ".join(f.name for f in self.fs) or "(empty)")
