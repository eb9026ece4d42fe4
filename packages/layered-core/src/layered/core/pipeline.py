"""Pipeline: transforms composed in `order`, with setup, decode and show.

```python
pipe = Pipeline([Categorize(), to_float])    # plain functions are wrapped in Transforms
pipe.setup(train_labels)                      # each transform sees the items through the ones before
y = pipe(label); pipe.decode(y)               # decode runs the decodes in reverse order
```
What runs on each call is worked out when the transforms or the `split_idx` are set: the
transforms whose `split_idx` matches the pipeline's, each with its per-type call cache. A
transform's own `split_idx` is read then, so set it before adding the transform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from layered.core.collection import L
from layered.core.item_errors import mark_step, note_item_error
from layered.core.registry import register_serializable
from layered.core.transform import Transform, TransformTypeError

__all__ = ["Pipeline"]


def _flatten(funcs: Any) -> list:
    if funcs is None:
        return []
    if isinstance(funcs, Pipeline):
        return list(funcs.fs)
    if isinstance(funcs, (list, tuple, L)):
        return [f for g in funcs for f in _flatten(g)]
    return [funcs]


def _as_transform(f: Any, i: int | None = None) -> Transform:
    if isinstance(f, Transform):
        return f
    if callable(f):
        return Transform(f)
    where = f"item {i}" if i is not None else "the added value"
    raise TransformTypeError(
        f"Pipeline: {where} is {f!r} ({type(f).__name__}), expected a Transform or a function"
    )


def _runs_on(f: Transform, split_idx: int | None) -> bool:
    return f.split_idx is None or f.split_idx == split_idx


class _Through:
    """A lazy view of `items` through transforms: what a transform's `setups` sees in `Pipeline.setup`.

    Indexing, slicing and iteration map the items on access. Attributes it lacks are looked up
    on the transforms (the latest first: e.g. a `vocab` learned by an earlier one), then on `items`.
    """

    def __init__(self, items: Any, tfms: list[Transform], split_idx: int | None, setting_up: str = "setup"):
        self.items, self.tfms, self.setting_up = items, tfms, setting_up
        active = [f for f in tfms if _runs_on(f, split_idx)]
        self.steps, self.names = [f._encoder for f in active], [f.name for f in active]

    def _map(self, x: Any, j: int) -> Any:
        """Item `j` (the raw `x`) through the transforms; an error is noted with the item's index."""
        k, raw = 0, x
        try:
            for step in self.steps:
                x = step(x)
                k += 1
        except Exception as e:
            mark_step(e, self.names[k])
            note_item_error(e, self._source_index(j), raw, f"setting up {self.setting_up}")
            raise
        return x

    def _source_index(self, j: int) -> Any:
        """The index of the `j`th item in the collection the items come from (their own when they say so)."""
        source = getattr(self.items, "source_index", None)
        return source(j) if source is not None else j

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._map(x, j) for j, x in zip(range(len(self.items))[i], self.items[i])]
        return self._map(self.items[i], i)

    def __iter__(self) -> Iterator:
        return (self._map(x, j) for j, x in enumerate(self.items))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("items", "tfms", "steps", "names", "setting_up"):
            raise AttributeError(name)
        for f in reversed(self.tfms):
            if name in f.__dict__:
                return f.__dict__[name]
        return getattr(self.items, name)


@register_serializable
class Pipeline:
    """Compose transforms (plain functions are wrapped) sorted by their `order` (a stable sort).

    `pipe(x)` applies them in order, `pipe.decode(x)` undoes them in reverse, `pipe.setup(items)`
    sets each one up on the items passed through the ones before it. With `split_idx`, only the
    transforms of that subset run (and those for all subsets).
    """

    def __init__(self, funcs: Callable | Iterable | None = None, split_idx: int | None = None):
        self._split_idx = split_idx
        self.fs = [_as_transform(f, i) for i, f in enumerate(_flatten(funcs))]

    @property
    def fs(self) -> L:
        """The transforms, in the order they run (`pipe.fs[0]` is the first)."""
        return self._fs

    @fs.setter
    def fs(self, fs: Iterable) -> None:
        self._fs = L(sorted((_as_transform(f, i) for i, f in enumerate(fs)), key=lambda f: f.order))
        self._refresh()

    @property
    def split_idx(self) -> int | None:
        """The subset this pipeline runs on (0 training, 1 validation, None all)."""
        return self._split_idx

    @split_idx.setter
    def split_idx(self, value: int | None) -> None:
        self._split_idx = value
        self._refresh()

    def _refresh(self) -> None:
        # The per-call plan: for each transform of this split, its cache lookup and its builder.
        active = [f for f in self._fs if _runs_on(f, self._split_idx)]
        self._encoders = [(f._encoder.top.get, f._encoder.fill_top) for f in active]
        self._decoders = [f._decoder for f in reversed(active)]
        self._names = [f.name for f in active]

    def __call__(self, x: Any) -> Any:
        step = 0
        try:
            for cached, build in self._encoders:
                t = type(x)
                x = (cached(t) or build(t))(x)
                step += 1
        except Exception as e:
            mark_step(e, self._names[step])  # the item's note, written by the caller, names this transform
            raise
        return x

    def decode(self, x: Any, full: bool = True) -> Any:
        """Undo the transforms in reverse order; with `full=False`, stop at a value that can `show`."""
        for decode in self._decoders:
            if not full and hasattr(x, "show"):
                break
            x = decode(x)
        return x

    def show(self, x: Any, ctx: Any = None, **kwargs) -> Any:
        """Decode `x` until it can be shown and show it on `ctx`; returns what `show` returns.

        Decoding stops at the first value with a `show` method, which is called with `ctx` and
        `kwargs`. A tuple is decoded fully, then each element that has `show` is shown in turn
        on the same context (e.g. an image, then its label as a title).
        """
        x = self.decode(x, full=False)
        if hasattr(x, "show"):
            return x.show(ctx=ctx, **kwargs)
        shown = [o for o in x if hasattr(o, "show")] if type(x) is tuple else []
        if not shown:
            raise TransformTypeError(
                f"Pipeline.show: the decoded value is a {type(x).__name__}, which has no show method "
                "(nor do its elements)"
            )
        for o in shown:
            ctx = o.show(ctx=ctx, **kwargs)
        return ctx

    def setup(self, items: Any = None, train_setup: bool = False) -> None:
        """Set up each transform on `items` mapped (lazily) through the transforms before it.

        With `train_setup`, `items.train` is used when there is one, and the transforms before
        run as on the training set (`split_idx=0`); otherwise with this pipeline's `split_idx`.
        """
        items, split_idx = self._setup_scope(items, train_setup)
        fs = list(self._fs)
        for i, f in enumerate(fs):
            f.setup(None if items is None else _Through(items, fs[:i], split_idx, f.name))

    def add(self, tfm: Callable, items: Any = None, train_setup: bool = False) -> None:
        """Set `tfm` up on `items` through the current transforms, then add it (by `order`)."""
        tfm = _as_transform(tfm)
        items, split_idx = self._setup_scope(items, train_setup)
        tfm.setup(None if items is None else _Through(items, list(self._fs), split_idx, tfm.name))
        self.fs = [*self._fs, tfm]

    def _setup_scope(self, items: Any, train_setup: bool) -> tuple[Any, int | None]:
        """The items a setup sees, and the split the transforms before run as."""
        if train_setup:
            return getattr(items, "train", items), 0
        return items, self._split_idx

    def __getitem__(self, i: int) -> Transform:
        return self._fs[i]

    def __len__(self) -> int:
        return len(self._fs)

    def __getstate__(self) -> dict:
        # the plan holds the transforms' caches; a copy (with copied transforms) rebuilds its own
        return {"_fs": self._fs, "_split_idx": self._split_idx}

    def __setstate__(self, state: dict) -> None:
        self._fs, self._split_idx = state["_fs"], state["_split_idx"]
        self._refresh()

    def __repr__(self) -> str:
        return "Pipeline: " + (" -> ".join(f.name for f in self._fs) or "(empty)")
