"""Specs: a declarative description of Python objects that loads back without running code from a file.

`to_spec(obj)` describes an object graph with dicts, lists, strings, numbers, booleans, None and
tensors only — what `torch.load(weights_only=True)` reads — and `from_spec(spec)` rebuilds it:

- an instance is `{"__class__": "module.qualname", "__id__": n, "state": {...}}`, the state being
  its `__dict__` (or what its `__getstate__` returns), each value described in turn; subclasses
  of list, dict and tuple add their `items`, subclasses of str, int and float their `value`;
- an `nn.Module` adds `"module": {"params", "buffers", "children"}`; its parameters and buffers
  hold their values, or with `weights=False` only shape and dtype, to be filled by
  `load_state_dict`;
- a class or module-level function used as a value is `{"__func__": "module.qualname"}`, a bound
  method `{"__method__": name, "self": spec}`;
- tuples, sets, dicts whose keys are not all plain strings, dtypes, devices, sizes, paths,
  slices, NumPy values, `random.Random` states, parameters and semantic tensors are tagged dicts
  (`{"__tuple__": [...]}`, ...); an instance met again is `{"__ref__": n}`, so shared objects,
  tied weights and cycles survive.

Exporting refuses, naming the object's path, whatever only running code could restore: a lambda,
a local function or class, a generator, an open file, an enum member, a module, an object with
its own `__reduce__` or with state hidden in an extension type, or anything whose class cannot be
imported back by its qualified name.

Loading resolves every name against an allow-list — layered, torch (but not its code-loading
entry points: hub, jit, package, load, ...), collections, pathlib and some builtin and NumPy
types — which `allow` extends (module prefixes or exact names) and `trusted=True` lifts. Objects
are made by `cls.__new__(cls)` (plus `nn.Module.__init__` for modules) and filled by attribute
assignment. The only code of a class that runs is the `__setstate__` of a class that defines one
(e.g. `Pipeline`, which rebuilds its call plan), as `torch.load(weights_only=True)` does for
allow-listed classes; a name from the file is never called.
"""

from __future__ import annotations

import enum
import functools
import importlib
import io
import pathlib
import random
import types
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from layered.train.errors import TrainError

__all__ = ["from_spec", "to_spec"]

_PLAIN = (bool, int, float, complex, str, bytes)
_VALUE_BASES = (str, bytes, int, float)  # immutable bases: a subclass is rebuilt as base.__new__(cls, value)
# bases whose instance layout the spec covers (items, value) although they are C types
_COVERED_BASES = frozenset({object, list, dict, tuple, str, bytes, int, float, OrderedDict, defaultdict})
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: off for builtin/extension types with fixed C layouts
_WEAK = {c.__name__: c for c in (weakref.WeakSet, weakref.WeakKeyDictionary, weakref.WeakValueDictionary)}

_ALLOWED_PREFIXES = ("layered", "torch", "collections", "pathlib")
_DENIED_PREFIXES = (
    "torch.hub", "torch.jit", "torch.package", "torch.serialization", "torch.load", "torch.save",
    "torch.ops", "torch.library", "torch.classes", "torch.utils.cpp_extension", "torch.distributed",
    "torch.multiprocessing", "torch.compile", "torch.export", "torch.onnx", "torch._dynamo", "torch._inductor",
)  # fmt: skip
_SAFE_TYPES = (
    object, int, float, complex, str, bytes, bool, tuple, list, dict, set, frozenset, slice, type(None),
    np.ndarray, np.generic, np.number, np.integer, np.floating, np.bool_,
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128,
)  # fmt: skip
# PIL's image class: vision pipelines name it as the type of their raw items (resolved by name
# only when a file mentions it; layered-train never imports PIL)
_SAFE_NAMES = frozenset(f"{t.__module__}.{t.__qualname__}" for t in _SAFE_TYPES) | {"PIL.Image.Image"}

_UNRESTORABLE = (
    ((types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType), "a generator, which cannot restart where it stopped"),
    (io.IOBase, "an open file"),
    (enum.Enum, "an enum member"),
    (types.ModuleType, "a module: refer to the functions or classes in it instead"),
)  # fmt: skip

# Tags, in the order a spec dict is recognised by (a semantic tensor has both __tensor__ and __class__).
_TAGS = (
    "__ref__", "__tensor__", "__parameter__", "__empty__", "__func__", "__method__", "__class__",
    "__tuple__", "__set__", "__frozenset__", "__dict__", "__dtype__", "__device__", "__size__",
    "__path__", "__slice__", "__ndarray__", "__npscalar__", "__npdtype__", "__random__", "__weak__",
)  # fmt: skip


def _is_dunder(s: str) -> bool:
    return len(s) > 4 and s.startswith("__") and s.endswith("__")


def _lookup(name: str) -> Any:
    """What `name` ("module.qualname") names, or None: import the longest module prefix, then walk attributes.

    Never through a dunder (`os.__dict__`); the result is never a module. What an alias leads to
    (`torch.os.system` is `posix.system`) is checked by its canonical name.
    """
    parts = name.split(".")
    if not all(parts) or any(_is_dunder(p) for p in parts if p != "__main__") or "__main__" in parts[1:]:
        return None
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part, None)
        return None if isinstance(obj, types.ModuleType) else obj
    return None


def _canonical_name(obj: Any) -> str | None:
    """`module.qualname` of a class or function when importing that name gives `obj` back, else None."""
    module = getattr(obj, "__module__", None)
    for attr in ("__qualname__", "__name__"):
        q = getattr(obj, attr, None)
        if isinstance(module, str) and isinstance(q, str) and _lookup(f"{module}.{q}") is obj:
            return f"{module}.{q}"
    return None


@functools.cache
def _module_internals() -> frozenset:
    """The attributes `nn.Module.__init__` makes, except the two the spec keeps as state."""
    return frozenset(vars(nn.Module())) - {"training", "_non_persistent_buffers_set"}


def _custom_getstate(cls: type) -> bool:
    return getattr(cls, "__getstate__", object.__getstate__) is not object.__getstate__


def _default_state(obj: Any) -> dict:
    """The instance `__dict__` merged with its `__slots__` values (what `object.__getstate__` gives)."""
    state = object.__getstate__(obj)
    if isinstance(state, tuple):
        d, slots = state
        return {**(d or {}), **(slots or {})}
    return dict(state or {})


def _torch_compat_hook(hook: Any) -> bool:
    """Whether `hook` is torch's own state-dict compatibility hook of weight norm (safe to drop)."""
    return getattr(hook, "__module__", None) == "torch.nn.utils.parametrizations" and "compat" in getattr(
        hook, "__name__", ""
    )


def _placeholder(t: torch.Tensor) -> dict:
    """A tensor to be filled by `load_state_dict`: only its shape and dtype."""
    return {"__empty__": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}


def to_spec(obj: Any, path: str = "obj", weights: bool = True) -> Any:
    """Describe `obj` with plain containers, primitives and tensors; `path` names it in errors.

    With `weights=False`, the parameters and persistent buffers of modules are described by shape
    and dtype only (load them with `load_state_dict`). Raises `TrainError` naming the path of an
    object that cannot be described (a lambda, a local class, a generator, an open file, ...).
    """
    return _Writer(weights).describe(obj, path)


class _Writer:
    """One description pass: remembers the instances described, so a repeat becomes a reference."""

    def __init__(self, weights: bool):
        self.weights = weights
        self.ids: dict[int, int] = {}
        self.kept: list = []  # keeps described objects alive so that their ids stay unique

    def register(self, obj: Any) -> int:
        n = self.ids[id(obj)] = len(self.kept)
        self.kept.append(obj)
        return n

    def describe(self, obj: Any, path: str) -> Any:
        t = type(obj)
        if obj is None or t in _PLAIN:
            return obj
        if t is list:
            return self.items(obj, path)
        if t is dict:
            return self.mapping(obj, path)
        if t in (tuple, set, frozenset):
            return {f"__{t.__name__}__": self.items(obj, path)}
        if isinstance(obj, torch.dtype):
            return {"__dtype__": str(obj).removeprefix("torch.")}
        if t is torch.device:
            return {"__device__": str(obj)}
        if t is torch.Size:
            return {"__size__": list(obj)}
        if isinstance(obj, torch.Tensor):
            return self.tensor(obj, path)
        if isinstance(obj, pathlib.Path):
            return {"__path__": str(obj)}
        if t is slice:
            return {"__slice__": self.items((obj.start, obj.stop, obj.step), path)}
        if isinstance(obj, (np.ndarray, np.generic, np.dtype)):
            return self.numpy(obj, path)
        if t is random.Random:
            return {"__random__": self.describe(obj.getstate(), f"{path}.getstate()")}
        if t in _WEAK.values():
            return {"__weak__": t.__name__}  # a weak container owns nothing: it is exported empty
        self.refuse_unrestorable(obj, path)
        if isinstance(obj, (type, types.FunctionType)) or (
            isinstance(obj, types.BuiltinFunctionType)
            and (obj.__self__ is None or isinstance(obj.__self__, types.ModuleType))
        ):
            return {"__func__": self.name(obj, path, "it")}
        if isinstance(obj, (types.MethodType, types.BuiltinMethodType)):
            return self.method(obj, path)
        named = _canonical_name(obj) if callable(obj) else None
        if named is not None:  # a callable importable by name, e.g. a module-level @functools.cache function
            return {"__func__": named}
        if id(obj) in self.ids:
            return {"__ref__": self.ids[id(obj)]}
        if isinstance(obj, nn.Module):
            return self.module(obj, path)
        return self.instance(obj, path)

    def items(self, seq: Iterable, path: str) -> list:
        return [self.describe(o, f"{path}[{i}]") for i, o in enumerate(seq)]

    def mapping(self, d: dict, path: str, attrs: bool = False) -> dict:
        """A dict of plain string keys as a dict; any other as `{"__dict__": [[key, value], ...]}`."""
        where = (lambda k: f"{path}.{k}") if attrs else (lambda k: f"{path}[{k!r}]")
        if all(type(k) is str and not _is_dunder(k) for k in d):
            return {k: self.describe(v, where(k)) for k, v in d.items()}
        return {
            "__dict__": [
                [self.describe(k, f"{path} key {k!r}"), self.describe(v, where(k))] for k, v in d.items()
            ]
        }

    def name(self, obj: Any, path: str, what: str) -> str:
        """The importable name of a class or function, or a `TrainError` saying why there is none."""
        q = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)
        if "<lambda>" in q:
            raise TrainError(
                f"cannot export {path}: {what} is a lambda ({q}), which cannot be found again by name; "
                "use a function defined at module level"
            )
        if "<locals>" in q:
            raise TrainError(
                f"cannot export {path}: {what} is {q}, defined inside a function (<locals>); define it "
                "at module level so it can be imported by name"
            )
        name = _canonical_name(obj)
        if name is None:
            raise TrainError(
                f"cannot export {path}: {what} is {obj!r}, which cannot be imported back by its qualified "
                f"name ({getattr(obj, '__module__', None)}.{q})"
            )
        return name

    def refuse_unrestorable(self, obj: Any, path: str) -> None:
        for kinds, what in _UNRESTORABLE:
            if isinstance(obj, kinds):
                raise TrainError(f"cannot export {path}: it is {what} ({obj!r})")

    def method(self, m: Any, path: str) -> dict:
        owner, name = m.__self__, m.__name__
        if _is_dunder(name) or getattr(owner, name, None) != m:
            raise TrainError(
                f"cannot export {path}: the bound method {m!r} cannot be found again as "
                f"{type(owner).__qualname__}.{name}"
            )
        return {"__method__": name, "self": self.describe(owner, f"{path}.__self__")}

    def tensor(self, t: torch.Tensor, path: str) -> Any:
        if isinstance(t, nn.Parameter):
            return self.parameter(t, path, placeholder=False)
        data = t.detach()
        if type(t) is torch.Tensor:
            return data
        return {
            "__tensor__": data.as_subclass(torch.Tensor),
            "__class__": self.name(type(t), path, f"its class {type(t).__qualname__}"),
            "meta": self.mapping(vars(t), path, attrs=True),
        }

    def parameter(self, p: nn.Parameter, path: str, placeholder: bool) -> dict:
        if id(p) in self.ids:
            return {"__ref__": self.ids[id(p)]}
        if type(p) is not nn.Parameter:
            raise TrainError(
                f"cannot export {path}: it is a {type(p).__qualname__}; expected a plain nn.Parameter"
            )
        data = _placeholder(p) if placeholder else p.detach()
        return {"__parameter__": data, "requires_grad": p.requires_grad, "__id__": self.register(p)}

    def numpy(self, obj: Any, path: str) -> dict:
        if isinstance(obj, np.dtype):
            if obj.fields is not None:
                raise TrainError(f"cannot export {path}: structured NumPy dtypes ({obj}) are not supported")
            return {"__npdtype__": obj.str}
        if isinstance(obj, np.generic):
            return {"__npscalar__": self.describe(obj.item(), path), "dtype": obj.dtype.str}
        if obj.dtype.kind in "biufc":  # numbers travel as a tensor, in native byte order
            native = np.ascontiguousarray(obj).astype(obj.dtype.newbyteorder("="), copy=False)
            return {"__ndarray__": torch.from_numpy(native), "dtype": obj.dtype.str}
        flat = self.items(obj.ravel().tolist(), path)
        return {"__ndarray__": flat, "dtype": obj.dtype.str, "shape": list(obj.shape)}

    def module(self, m: nn.Module, path: str) -> dict:
        cls = type(m)
        if parametrize.is_parametrized(m):
            # torch made this class on the fly (`Parametrized<Base>`, not importable): describe the
            # base class; the `parametrizations` child is described like any module and re-attached
            cls = cls.__bases__[0]
        name = self.name(cls, path, f"its class {cls.__qualname__}")
        n = self.register(m)
        full = cls.__getstate__(m) if _custom_getstate(cls) else m.__dict__
        for key in _module_internals() - {"_parameters", "_buffers", "_modules"}:
            hooks = full.get(key)
            if isinstance(hooks, dict) and any(not _torch_compat_hook(h) for h in hooks.values()):
                raise TrainError(
                    f"cannot export {path}: it has {len(full[key])} {key} registered; hooks are code, "
                    "so remove them before exporting"
                )
        keep = not self.weights
        params = {
            k: None if p is None else self.parameter(p, f"{path}.{k}", placeholder=keep)
            for k, p in m._parameters.items()
        }
        buffers = {}
        for k, b in m._buffers.items():
            filled_by_state_dict = keep and type(b) is torch.Tensor and k not in m._non_persistent_buffers_set
            buffers[k] = _placeholder(b) if filled_by_state_dict else self.describe(b, f"{path}.{k}")
        children = {k: self.describe(c, f"{path}.{k}") for k, c in m._modules.items()}
        state = {k: v for k, v in full.items() if k not in _module_internals()}
        spec = {
            "__class__": name,
            "__id__": n,
            "module": {"params": params, "buffers": buffers, "children": children},
            "state": self.mapping(state, path, attrs=True),
        }
        if cls is not type(m):
            spec["parametrized"] = list(m.parametrizations)
        return spec

    def instance(self, obj: Any, path: str) -> dict:
        cls = type(obj)
        name = self.name(cls, path, f"its class {cls.__qualname__}")
        for c in cls.__mro__:
            if c in _COVERED_BASES:
                continue
            if not c.__flags__ & _HEAPTYPE or "__reduce__" in vars(c) or "__reduce_ex__" in vars(c):
                raise TrainError(
                    f"cannot export {path}: a {cls.__qualname__} can only be rebuilt by running code "
                    f"({c.__module__}.{c.__qualname__} keeps its state in C or defines __reduce__)"
                )
        out: dict[str, Any] = {"__class__": name, "__id__": self.register(obj)}
        if isinstance(obj, (list, tuple)):
            out["items"] = self.items(obj, path)
        elif isinstance(obj, dict):
            if isinstance(obj, defaultdict):
                out["factory"] = self.describe(obj.default_factory, f"{path}.default_factory")
            out["items"] = [
                [self.describe(k, f"{path} key {k!r}"), self.describe(v, f"{path}[{k!r}]")]
                for k, v in obj.items()
            ]
        elif isinstance(obj, _VALUE_BASES):
            base = next(b for b in _VALUE_BASES if isinstance(obj, b))
            out["value"] = base.__getnewargs__(obj)[0]  # the plain value, whatever __str__ etc. say
        if _custom_getstate(cls):
            state = obj.__getstate__()
        else:
            state = _default_state(obj)
            bad = [k for k in state if _is_dunder(k)]
            if bad:
                raise TrainError(f"cannot export {path}: it has dunder attributes {bad}, which are not state")
        if isinstance(state, dict):
            out["state"] = self.mapping(state, path, attrs=True)
        elif state is not None:
            out["state"] = self.describe(state, f"{path}.__getstate__()")
        return out


def from_spec(
    spec: Any,
    trusted: bool = False,
    allow: Iterable[str] | str = (),
    source: str = "the spec",
    path: str = "obj",
) -> Any:
    """Rebuild what `to_spec` described, resolving class and function names only from the allow-list.

    `allow` adds module prefixes (`"mypkg"` allows `mypkg.*`) or exact names; `trusted=True` allows
    any importable name. `source` (e.g. the file name) and `path` name the spec in errors.
    """
    entries = (allow,) if isinstance(allow, str) else tuple(allow)
    bad = [a for a in entries if not isinstance(a, str) or not a]
    if bad:
        raise TrainError(f"allow must hold module prefixes or names as strings, found {bad!r}")
    return _Reader(trusted, entries, source).build(spec, path)


def _expect(x: Any, typ: type) -> Any:
    if type(x) is not typ:
        raise TypeError(f"expected a {typ.__name__}, found {type(x).__name__}")
    return x


def _as_list(x: Any) -> list:
    return _expect(x, list)


def _as_str(x: Any) -> str:
    return _expect(x, str)


def _dtype(name: Any) -> torch.dtype:
    dtype = getattr(torch, _as_str(name), None) if not _is_dunder(name) else None
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"{name!r} is not a torch dtype")
    return dtype


# Tags whose value alone (no names, no nested specs) gives the object.
_ATOMS = {
    "__dtype__": _dtype,
    "__device__": lambda v: torch.device(_as_str(v)),
    "__size__": lambda v: torch.Size([int(n) for n in _as_list(v)]),
    "__path__": lambda v: pathlib.Path(_as_str(v)),
    "__npdtype__": lambda v: np.dtype(_as_str(v)),
    "__weak__": lambda v: _WEAK[_as_str(v)](),
}
# Tags holding a list of specs, and what to make of the rebuilt list.
_SEQUENCES = {
    "__tuple__": tuple,
    "__set__": set,
    "__frozenset__": frozenset,
    "__slice__": lambda v: slice(*v),
}


class _Reader:
    """One rebuilding pass: resolves names against the allow-list and remembers `__id__`s for `__ref__`s."""

    def __init__(self, trusted: bool, allow: tuple[str, ...], source: str):
        self.trusted, self.allow, self.source = trusted, allow, source
        self.memo: dict[int, Any] = {}

    def fail(self, path: str, problem: str) -> TrainError:
        return TrainError(f"cannot load {path} from {self.source}: {problem}")

    # ---- names ------------------------------------------------------------------------
    def allowed(self, name: str) -> bool:
        def matches(entries):
            return any(name == e or name.startswith(e + ".") for e in entries)

        if self.trusted or matches(self.allow):
            return True
        return not matches(_DENIED_PREFIXES) and (name in _SAFE_NAMES or matches(_ALLOWED_PREFIXES))

    def refuse(self, name: str, path: str, why: str = "") -> TrainError:
        return TrainError(
            f"refusing to load {name} from {self.source}: {why}not in the allow-list; pass trusted=True "
            f"or allow=[...] if you trust this file (it is used at {path})"
        )

    def resolve(self, name: Any, path: str) -> Any:
        if not isinstance(name, str):
            raise self.fail(path, f"a class or function name must be a string, found {type(name).__name__}")
        if any(_is_dunder(p) for p in name.split(".") if p != "__main__"):
            raise TrainError(
                f"refusing to load {name} from {self.source}: names that reach through dunder attributes "
                "are never resolved"
            )
        if not self.allowed(name):
            raise self.refuse(name, path)
        obj = _lookup(name)
        if obj is None:
            raise self.fail(path, f"{name} names no importable class or function here")
        canonical = _canonical_name(obj)
        if not self.trusted and (canonical is None or not self.allowed(canonical)):
            raise self.refuse(name, path, f"it is really {canonical or repr(obj)}, which is ")
        return obj

    # ---- dispatch ---------------------------------------------------------------------
    def build(self, spec: Any, path: str) -> Any:
        t = type(spec)
        if spec is None or t in _PLAIN or isinstance(spec, torch.Tensor):
            return spec
        if t is list:
            return [self.build(s, f"{path}[{i}]") for i, s in enumerate(spec)]
        if t is not dict:
            raise self.fail(path, f"a spec never holds a {t.__name__}")
        tag = next((k for k in _TAGS if k in spec), None)
        if tag is None:
            odd = [k for k in spec if not isinstance(k, str) or _is_dunder(k)]
            if odd:
                raise self.fail(path, f"unknown keys {odd!r}")
            return {k: self.build(v, f"{path}[{k!r}]") for k, v in spec.items()}
        try:
            if tag in _ATOMS:
                return _ATOMS[tag](spec[tag])
            if tag in _SEQUENCES:
                return _SEQUENCES[tag](self.build(_as_list(spec[tag]), path))
            return getattr(self, f"build_{tag.strip('_')}")(spec, path)
        except TrainError:
            raise
        except Exception as e:  # a malformed spec: say where, whatever went wrong underneath
            raise self.fail(path, f"malformed {tag} spec ({type(e).__name__}: {e})") from e

    def build_attrs(self, spec: Any, path: str) -> Any:
        """Like `build`, but the values of a plain dict (attributes) are named `path.name` in errors."""
        if type(spec) is dict and all(isinstance(k, str) and not _is_dunder(k) for k in spec):
            return {k: self.build(v, f"{path}.{k}") for k, v in spec.items()}
        return self.build(spec, path)

    def register(self, spec: dict, obj: Any) -> None:
        n = spec.get("__id__")
        if n is not None:
            self.memo[int(n)] = obj

    def build_ref(self, spec: dict, path: str) -> Any:
        n = spec["__ref__"]
        if n not in self.memo:
            raise self.fail(path, f"it refers to object {n!r}, which is not (yet) built")
        return self.memo[n]

    def pairs(self, items: Any, path: str) -> list[tuple]:
        return [(self.build(k, f"{path} key"), self.build(v, f"{path}[{k!r}]")) for k, v in _as_list(items)]

    def build_dict(self, spec: dict, path: str) -> dict:
        return dict(self.pairs(spec["__dict__"], path))

    def build_empty(self, spec: dict, path: str) -> torch.Tensor:
        return torch.zeros([int(n) for n in _as_list(spec["__empty__"])], dtype=_dtype(spec["dtype"]))

    def build_ndarray(self, spec: dict, path: str) -> np.ndarray:
        dtype, data = np.dtype(_as_str(spec["dtype"])), spec["__ndarray__"]
        if isinstance(data, torch.Tensor):
            return data.numpy().astype(dtype, copy=False)
        flat = self.build(_as_list(data), path)
        out = np.empty(len(flat), dtype=dtype)
        for i, v in enumerate(flat):  # one by one: NumPy would read nested lists as more dimensions
            out[i] = v
        return out.reshape([int(n) for n in _as_list(spec["shape"])])

    def build_npscalar(self, spec: dict, path: str) -> np.generic:
        return np.dtype(_as_str(spec["dtype"])).type(self.build(spec["__npscalar__"], path))

    def build_random(self, spec: dict, path: str) -> random.Random:
        rng = random.Random()
        rng.setstate(self.build(spec["__random__"], path))
        return rng

    def build_tensor(self, spec: dict, path: str) -> torch.Tensor:
        cls, data = self.resolve(spec["__class__"], path), spec["__tensor__"]
        if not (isinstance(cls, type) and issubclass(cls, torch.Tensor)) or not isinstance(
            data, torch.Tensor
        ):
            raise self.fail(path, f"{spec['__class__']} with {type(data).__name__} data is not a tensor")
        out = torch.Tensor.as_subclass(data, cls)
        meta = self.build_attrs(spec.get("meta", {}), path)
        self.check_attrs(meta, path)
        out.__dict__.update(meta)
        return out

    def build_parameter(self, spec: dict, path: str) -> nn.Parameter:
        data = self.build(spec["__parameter__"], path)
        if type(data) is not torch.Tensor:
            raise self.fail(path, f"a parameter's data must be a tensor, found {type(data).__name__}")
        p = nn.Parameter(data, requires_grad=bool(spec.get("requires_grad", True)))
        self.register(spec, p)
        return p

    def build_func(self, spec: dict, path: str) -> Any:
        return self.resolve(spec["__func__"], path)

    def build_method(self, spec: dict, path: str) -> Any:
        name, owner = _as_str(spec["__method__"]), self.build(spec["self"], f"{path}.__self__")
        if _is_dunder(name) or not callable(method := getattr(owner, name, None)):
            raise self.fail(path, f"{type(owner).__qualname__} has no method {name!r} to bind")
        return method

    # ---- instances and modules --------------------------------------------------------
    def build_class(self, spec: dict, path: str) -> Any:
        cls = self.resolve(spec["__class__"], path)
        if not isinstance(cls, type):
            raise self.fail(path, f"{spec['__class__']} is not a class")
        if "module" in spec:
            return self.build_module(cls, spec, path)
        items = spec.get("items", [])
        if issubclass(cls, tuple):
            obj = tuple.__new__(cls, self.build(_as_list(items), path))
        elif issubclass(cls, _VALUE_BASES):
            base = next(b for b in _VALUE_BASES if issubclass(cls, b))
            if type(spec.get("value")) is not base:
                raise self.fail(path, f"a {cls.__qualname__} needs a {base.__name__} value")
            obj = base.__new__(cls, spec["value"])
        else:
            obj = cls.__new__(cls)
        self.register(spec, obj)
        if isinstance(obj, list):
            list.extend(obj, self.build(_as_list(items), path))
        elif isinstance(obj, dict):
            if isinstance(obj, defaultdict):
                obj.default_factory = self.build(spec.get("factory"), f"{path}.default_factory")
            setitem = OrderedDict.__setitem__ if isinstance(obj, OrderedDict) else dict.__setitem__
            for k, v in self.pairs(items, path):
                setitem(obj, k, v)
        if "state" in spec:
            self.restore(obj, self.build_attrs(spec["state"], path), path)
        return obj

    def build_module(self, cls: type, spec: dict, path: str) -> nn.Module:
        if not issubclass(cls, nn.Module):
            raise self.fail(path, f"{spec['__class__']} is not an nn.Module")
        parts = spec["module"]
        m = cls.__new__(cls)
        self.register(spec, m)
        nn.Module.__init__(m)
        for kind, store, want in (
            ("params", m._parameters, nn.Parameter),
            ("buffers", m._buffers, torch.Tensor),
            ("children", m._modules, nn.Module),
        ):
            for k, s in parts[kind].items():
                value = self.build(s, f"{path}.{k}")
                if not isinstance(k, str) or "." in k or (value is not None and not isinstance(value, want)):
                    raise self.fail(
                        path, f"{kind} entry {k!r} is a {type(value).__name__}, not a {want.__name__}"
                    )
                store[k] = value
        self.restore(m, self.build_attrs(spec.get("state", {}), path), path)
        if "parametrized" in spec:
            self.reparametrize(m, _as_list(spec["parametrized"]), path)
        return m

    def reparametrize(self, m: nn.Module, names: list, path: str) -> None:
        """Re-attach rebuilt parametrizations (weight norm, ...) with torch's public API, keeping the saved originals."""
        saved = m._modules.pop("parametrizations", None)
        if not isinstance(saved, nn.ModuleDict) or sorted(saved) != sorted(names):
            raise self.fail(path, f"parametrized tensors {names!r} do not match its parametrizations")
        for name in names:
            plist = saved[name]
            if not isinstance(plist, parametrize.ParametrizationList):
                raise self.fail(path, f"parametrizations.{name} is a {type(plist).__name__}")
            # a value of the right shape to register on, computed in eval mode so that no
            # parametrization updates its state (spectral norm's power iteration); the saved
            # originals then replace the ones torch derives from it, and unsafe=True skips checks
            # that would run the parametrizations again
            training = plist.training
            with torch.no_grad():
                m.register_parameter(name, nn.Parameter(plist.eval()()))
            plist.train(training)
            for tfm in plist:
                parametrize.register_parametrization(m, name, tfm, unsafe=True)
            m.parametrizations[name]._parameters.update(plist._parameters)
            m.parametrizations[name].unsafe = plist.unsafe

    def restore(self, obj: Any, state: Any, path: str) -> None:
        """Give `obj` its state: by its class's own `__setstate__` if it has one, else attribute by attribute."""
        setstate = getattr(type(obj), "__setstate__", None)
        if setstate is not None and setstate is not nn.Module.__setstate__:
            obj.__setstate__({**obj.__dict__, **state} if isinstance(obj, nn.Module) else state)
            return
        self.check_attrs(state, path)
        for k, v in state.items():
            object.__setattr__(obj, k, v)

    def check_attrs(self, attrs: Any, path: str) -> None:
        if not isinstance(attrs, dict):
            raise self.fail(path, f"its state is a {type(attrs).__name__}, expected attributes (a dict)")
        for k in attrs:
            if not isinstance(k, str) or _is_dunder(k):
                raise self.fail(path, f"refusing to set the attribute {k!r}")
