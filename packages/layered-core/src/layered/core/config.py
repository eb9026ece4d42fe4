"""Configurations: objects described as JSON-ready data plus named tensors, rebuilt from registered parts only.

`to_config(obj)` returns `(config, tensors)`: `config` holds only None, booleans, numbers,
strings, lists and dicts (`json.dumps` writes it as is), `tensors` maps keys to the tensors it
refers to. `from_config(config, tensors)` rebuilds the object. Tagged dicts (keys starting `$`)
carry what JSON lacks:

| tag | what |
|---|---|
| `{"$obj": name, "state": {...}}` | an instance of a registered class, by its attributes (`items`/`value` for list, dict, str subclasses; `config` for classes with `get_config`) |
| `{"$module": name, "params", "buffers", "children", "state"}` | an `nn.Module` of a registered class; parameter and buffer values are tensors from the weights |
| `{"$name": name}` | a registered class or function used as a value |
| `{"$ref": n}` | the object with `"$id": n` met before (shared objects, tied weights, cycles) |
| `{"$tensor": key}` | a tensor (`"$class"` and `"meta"` for a semantic tensor); `$param` a parameter |
| `$tuple`, `$set`, `$frozenset`, `$dict` (non-string keys), `$float` (nan, inf), `$bytes` (`$blob`: long bytes kept as a uint8 tensor), `$path`, `$slice`, `$dtype`, `$device`, `$size`, `$ndarray`, `$npscalar`, `$npdtype`, `$random`, `$enum` | the value itself |

Rebuilding runs no code but the registry's: every class or function is looked up by its
registered name (`layered.core.registry`); an instance is made by `cls.__new__` and given its
state by the class's own `__setstate__` or by attribute assignment, which never replaces a
method, property or other class attribute that is not plain data; a module gets its tensors
from `tensors` (so their shapes are those of the stored weights); classes with Keras'
`get_config`/`from_config` are rebuilt by `from_config`. Anything malformed raises a
`ConfigError` naming where in the configuration it is.
"""

from __future__ import annotations

import base64
import enum
import functools
import inspect
import math
import pathlib
import random
import types
from collections import OrderedDict, defaultdict
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

import layered.core.components  # noqa: F401  (registers Python's and torch's components)
from layered.core.errors import LayeredError
from layered.core.registry import Component, RegistryError, find_component, registered_name

__all__ = ["ConfigError", "ConfigReader", "ConfigWriter", "from_config", "to_config"]

_PLAIN = (bool, int, str, type(None))
_VALUE_BASES = (str, bytes, int, float)  # immutable bases: a subclass is rebuilt as base.__new__(cls, value)
_PLAIN_CLASS_ATTR = (bool, int, float, str, bytes, type(None), tuple, frozenset)


class ConfigError(LayeredError, ValueError):
    """A configuration cannot be written (an unregistered object) or read (malformed, unknown names)."""


def _is_dunder(s: str) -> bool:
    return len(s) > 4 and s.startswith("__") and s.endswith("__")


def _custom(cls: type, method: str) -> bool:
    """Whether `cls` defines `method` itself or through a base other than `object`."""
    return getattr(cls, method, None) is not getattr(object, method, None)


@functools.cache
def _module_internals() -> frozenset:
    """The attributes `nn.Module.__init__` makes (described by params/buffers/children, or not at all)."""
    return frozenset(vars(nn.Module())) - {"training"}


def _torch_compat_hook(hook: Any) -> bool:
    """Whether `hook` is torch's own state-dict compatibility hook of weight norm (re-added on loading)."""
    hook = getattr(hook, "hook", hook)  # torch may wrap it
    return getattr(hook, "__module__", None) == "torch.nn.utils.parametrizations" and "compat" in getattr(
        hook, "__name__", ""
    )


def to_config(obj: Any, path: str = "obj", prefix: str = "") -> tuple[Any, dict[str, torch.Tensor]]:
    """Describe `obj` as JSON-ready data and named tensors; `path` names it in errors.

    The parameters and buffers of a module described at the top are keyed `prefix` + their
    `state_dict` name, so the tensors of a model are its state dict. Raises `ConfigError`, naming
    the attribute path, for an object that is not registered or not plain data.
    """
    writer = ConfigWriter()
    config = writer.prune(writer.describe(obj, path, prefix))
    return config, writer.tensors


class ConfigWriter:
    """One description pass over several objects: `describe` each, then read `tensors`.

    Objects met twice (in one object or across several) become references to the first.
    """

    def __init__(self):
        self.ids: dict[int, int] = {}
        self.kept: list = []  # keeps described objects alive so that their ids stay unique
        self.tensors: dict[str, torch.Tensor] = {}
        self.referenced: set[int] = set()

    def register(self, obj: Any) -> int:
        n = self.ids[id(obj)] = len(self.kept)
        self.kept.append(obj)
        return n

    def fail(self, path: str, problem: str) -> ConfigError:
        return ConfigError(f"cannot export {path}: {problem}")

    def ref(self, obj: Any) -> dict:
        n = self.ids[id(obj)]
        self.referenced.add(n)
        return {"$ref": n}

    def prune(self, config: Any) -> Any:
        """`config` without the `$id`s nothing refers to (call once every object is described)."""
        if isinstance(config, dict):
            return {k: self.prune(v) for k, v in config.items() if k != "$id" or v in self.referenced}
        if isinstance(config, list):
            return [self.prune(v) for v in config]
        return config

    def unregistered(self, path: str, what: Any) -> ConfigError:
        cls = what if isinstance(what, type) else type(what)
        name = f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}"
        if isinstance(what, (types.FunctionType, types.BuiltinFunctionType, type)):
            name = f"{getattr(what, '__module__', '?')}.{getattr(what, '__qualname__', what)}"
        if "<lambda>" in name or "<locals>" in name:
            return self.fail(
                path,
                f"{name} is a lambda or a local definition; define it at module level and "
                "register it with @register_serializable",
            )
        return self.fail(
            path,
            f"{name} is not a registered component. Register it with @register_serializable "
            "(layered.core.registry), or use the trusted pickle format (export(..., pickle=True)), "
            "which runs code when loaded",
        )

    def add_tensor(self, t: torch.Tensor, key: str | None) -> str:
        data = t.detach()
        if key is None:
            key = f"data.{len(self.tensors)}"
            while key in self.tensors:
                key += "_"
        self.tensors[key] = data
        return key

    # ---- dispatch ---------------------------------------------------------------------
    def describe(self, obj: Any, path: str, prefix: str = "") -> Any:
        """The configuration of `obj` (`path` names it in errors; `prefix` starts its modules' tensor keys)."""
        t = type(obj)
        if t in _PLAIN:
            return obj
        if t is float:
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if t is list:
            return [self.describe(o, f"{path}[{i}]") for i, o in enumerate(obj)]
        if t is dict:
            return self.mapping(obj, path)
        if t in (tuple, set, frozenset):
            return {f"${t.__name__}": [self.describe(o, f"{path}[{i}]") for i, o in enumerate(obj)]}
        atom = self.atom(obj, t, path)
        if atom is not None:
            return atom
        if isinstance(obj, torch.Tensor):
            return self.tensor(obj, path)
        if isinstance(obj, enum.Enum):
            return {"$enum": self.component(t, path).name, "member": obj.name}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"$name": self.component(obj, path).name}
        if isinstance(obj, types.MethodType) and isinstance(obj.__self__, type):
            return self.classmethod(obj, path)
        if id(obj) in self.ids:
            return self.ref(obj)
        # torch makes the class of a parametrized module on the fly (`Parametrized<Base>`): its base is described
        cls = t.__bases__[0] if isinstance(obj, nn.Module) and parametrize.is_parametrized(obj) else t
        component = registered_name(cls)
        if component is None or component.kind == "reference":
            raise self.unregistered(path, obj)
        if isinstance(obj, nn.Module):
            return self.module(obj, component, path, prefix)
        return self.instance(obj, component, path)

    def atom(self, obj: Any, t: type, path: str) -> Any:
        """Values described by themselves (no names, no nested objects), or None."""
        if t is bytes:  # long ones (a tokenizer's model) beside the weights, short ones inline
            if len(obj) > 1024:
                return {"$blob": self.add_tensor(torch.frombuffer(bytearray(obj), dtype=torch.uint8), None)}
            return {"$bytes": base64.b64encode(obj).decode("ascii")}
        if isinstance(obj, torch.dtype):
            return {"$dtype": str(obj).removeprefix("torch.")}
        if t is torch.device:
            return {"$device": str(obj)}
        if t is torch.Size:
            return {"$size": list(obj)}
        if isinstance(obj, pathlib.PurePath):
            return {"$path": str(obj)}
        if t is slice:
            return {"$slice": [self.describe(o, path) for o in (obj.start, obj.stop, obj.step)]}
        if t is random.Random:
            version, internal, gauss = obj.getstate()
            return {"$random": [version, list(internal), self.describe(gauss, path)]}
        if isinstance(obj, (np.ndarray, np.generic, np.dtype)):
            return self.numpy(obj, path)
        return None

    def component(self, obj: Any, path: str) -> Component:
        component = registered_name(obj)
        if component is None:
            raise self.unregistered(path, obj)
        return component

    def classmethod(self, m: types.MethodType, path: str) -> dict:
        """A class method of a registered class, by the class and the method's name."""
        owner, name = m.__self__, m.__name__
        if _is_dunder(name) or not isinstance(inspect.getattr_static(owner, name, None), classmethod):
            raise self.fail(path, f"{m!r} is not a class method found as {owner.__qualname__}.{name}")
        return {"$method": name, "of": {"$name": self.component(owner, path).name}}

    def mapping(self, d: dict, path: str) -> dict:
        """A dict of plain string keys (not starting with `$`) as itself; any other as `{"$dict": [[k, v], ...]}`."""
        if all(type(k) is str and not k.startswith("$") for k in d):
            return {k: self.describe(v, f"{path}[{k!r}]") for k, v in d.items()}
        return {
            "$dict": [
                [self.describe(k, f"{path} key {k!r}"), self.describe(v, f"{path}[{k!r}]")]
                for k, v in d.items()
            ]
        }

    def attributes(self, state: dict, path: str) -> dict:
        bad = [k for k in state if type(k) is not str or _is_dunder(k) or k.startswith("$")]
        if bad:
            raise self.fail(path, f"its state has keys {bad!r}, which cannot be attribute names")
        return {k: self.describe(v, f"{path}.{k}") for k, v in state.items()}

    def numpy(self, obj: Any, path: str) -> dict:
        if isinstance(obj, np.dtype):
            if obj.fields is not None or obj.kind in "OV":
                raise self.fail(path, f"NumPy dtype {obj} is not plain data")
            return {"$npdtype": obj.str}
        if isinstance(obj, np.generic):
            if obj.dtype.kind in "OV":
                raise self.fail(path, f"a NumPy {obj.dtype} scalar is not plain data")
            return {"$npscalar": self.describe(obj.item(), path), "dtype": obj.dtype.str}
        if obj.dtype.kind in "biuf":  # numbers travel as a tensor, in native byte order
            native = np.ascontiguousarray(obj).astype(obj.dtype.newbyteorder("="), copy=False)
            return {"$ndarray": self.add_tensor(torch.from_numpy(native), None), "dtype": obj.dtype.str}
        if obj.dtype.kind not in "OUS":
            raise self.fail(path, f"NumPy arrays of dtype {obj.dtype} are not supported")
        flat = [self.describe(o, f"{path}[{i}]") for i, o in enumerate(obj.ravel().tolist())]
        return {"$ndarray": flat, "dtype": obj.dtype.str, "shape": list(obj.shape)}

    def tensor(self, t: torch.Tensor, path: str, key: str | None = None) -> dict:
        if isinstance(t, nn.Parameter):
            if id(t) in self.ids:
                return self.ref(t)
            if type(t) is not nn.Parameter:
                raise self.fail(path, f"it is a {type(t).__qualname__}; expected a plain nn.Parameter")
            n = self.register(t)
            out = {"$param": self.add_tensor(t, key), "$id": n}
            return out if t.requires_grad else {**out, "grad": False}
        if type(t) is torch.Tensor:
            return {"$tensor": self.add_tensor(t, key)}
        return {
            "$tensor": self.add_tensor(t.as_subclass(torch.Tensor), key),
            "$class": self.component(type(t), path).name,
            "meta": self.attributes(vars(t), path),
        }

    # ---- instances and modules --------------------------------------------------------
    def state_of(self, obj: Any, component: Component) -> dict:
        cls = component.resolve()  # the registered class (a parametrized module's own refuses __getstate__)
        state = cls.__getstate__(obj) if _custom(cls, "__getstate__") else dict(getattr(obj, "__dict__", {}))
        if isinstance(state, tuple):  # (dict, slots) from object.__getstate__ with __slots__
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise ConfigError(
                f"{component.name}.__getstate__ returned a {type(state).__name__}, expected a dict"
            )
        excluded = {
            name for klass in type(obj).__mro__ if (c := registered_name(klass)) for name in c.exclude
        }
        return {k: v for k, v in state.items() if k not in excluded}

    def instance(self, obj: Any, component: Component, path: str) -> dict:
        out: dict[str, Any] = {"$obj": component.name, "$id": self.register(obj)}
        if component.encode is not None:
            out["config"] = self.attributes(component.encode(obj), f"{path} (as {component.name})")
            return out
        if callable(getattr(obj, "get_config", None)) and callable(getattr(type(obj), "from_config", None)):
            out["config"] = self.attributes(obj.get_config(), f"{path}.get_config()")
            return out
        if isinstance(obj, (list, tuple)):
            out["items"] = [self.describe(o, f"{path}[{i}]") for i, o in enumerate(obj)]
        elif isinstance(obj, dict):
            if isinstance(obj, defaultdict):
                out["factory"] = self.describe(obj.default_factory, f"{path}.default_factory")
            out["items"] = [
                [self.describe(k, f"{path} key {k!r}"), self.describe(v, f"{path}[{k!r}]")]
                for k, v in obj.items()
            ]
        elif isinstance(obj, _VALUE_BASES):
            base = next(b for b in _VALUE_BASES if isinstance(obj, b))
            out["value"] = self.describe(base(obj), path)
        out["state"] = self.attributes(self.state_of(obj, component), path)
        return out

    def module(self, m: nn.Module, component: Component, path: str, prefix: str) -> dict:
        n = self.register(m)
        full = self.state_of(m, component)
        for key in (
            "_forward_hooks",
            "_forward_pre_hooks",
            "_backward_hooks",
            "_backward_pre_hooks",
            "_state_dict_hooks",
            "_load_state_dict_pre_hooks",
            "_load_state_dict_post_hooks",
        ):
            hooks = [h for h in (full.get(key) or {}).values() if not _torch_compat_hook(h)]
            if hooks:
                raise self.fail(
                    path,
                    f"it has {len(hooks)} {key} registered; hooks are code, so remove them before exporting",
                )
        if callable(getattr(m, "get_config", None)) and callable(getattr(type(m), "from_config", None)):
            for k, v in m.state_dict().items():  # its weights, filled in after from_config rebuilds it
                self.add_tensor(v, prefix + k)
            return {
                "$module": component.name,
                "$id": n,
                "config": self.attributes(m.get_config(), f"{path}.get_config()"),
            }
        persistent = set(m._buffers) - m._non_persistent_buffers_set
        params = {
            k: None if p is None else self.tensor(p, f"{path}.{k}", prefix + k)
            for k, p in m._parameters.items()
        }
        buffers: dict[str, Any] = {}
        for k, b in m._buffers.items():
            # non-persistent buffers are not in the state dict: they get a key of their own
            buffers[k] = (
                None if b is None else self.tensor(b, f"{path}.{k}", prefix + k if k in persistent else None)
            )
            if b is not None and k not in persistent:
                buffers[k]["persistent"] = False
        children = {
            k: None if c is None else self.describe(c, f"{path}.{k}", f"{prefix}{k}.")
            for k, c in m._modules.items()
        }
        # `training` is left out when True, what `nn.Module.__init__` gives
        state = {
            k: v for k, v in full.items() if k not in _module_internals() and (k, v) != ("training", True)
        }
        parts = {
            "params": params,
            "buffers": buffers,
            "children": children,
            "state": self.attributes(state, path),
        }
        if parametrize.is_parametrized(m):  # weight or spectral norm: re-attached with torch's API on loading
            parts["parametrized"] = list(m.parametrizations)
        return {"$module": component.name, "$id": n, **{k: v for k, v in parts.items() if v}}


# ---- reading --------------------------------------------------------------------------------


def from_config(
    config: Any, tensors: dict[str, torch.Tensor], source: str = "the configuration", path: str = "obj"
) -> Any:
    """Rebuild what `to_config` described, from registered components and the given tensors only.

    `source` (e.g. the file name) and `path` name the place in errors. Raises `ConfigError` for
    anything malformed or unknown, never another exception.
    """
    return ConfigReader(tensors, source).read(config, path)


def _expect(x: Any, typ: type, what: str = "") -> Any:
    if type(x) is not typ:
        raise TypeError(f"expected {what or 'a ' + typ.__name__}, found {type(x).__name__}")
    return x


def _dtype(name: Any) -> torch.dtype:
    name = _expect(name, str)
    dtype = None if _is_dunder(name) else getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"{name!r} is not a torch dtype")
    return dtype


def _np_dtype(name: Any) -> np.dtype:
    dtype = np.dtype(_expect(name, str))
    if dtype.kind in "OV" or dtype.fields is not None:
        raise TypeError(f"NumPy dtype {name!r} is not plain data")
    return dtype


def _float(v: Any) -> float:
    if _expect(v, str) not in ("nan", "inf", "-inf"):
        raise TypeError(f"{v!r} is not nan, inf or -inf")
    return float(v)


def _random(v: Any) -> random.Random:
    version, internal, gauss = _expect(v, list)
    if not (type(version) is int and type(internal) is list and all(type(i) is int for i in internal)):
        raise TypeError("a random state holds integers")
    rng = random.Random()
    rng.setstate((version, tuple(internal), gauss if gauss is None else float(gauss)))
    return rng


def _attr_allowed(cls: type, name: str, value: Any) -> bool:
    """Whether setting `name` to `value` on an instance of `cls` leaves the class's behaviour its own.

    A name the class does not define is free; a class attribute holding plain data (a default)
    may be overridden, and so may a stage the class lists as replaceable in `_methods`; anything else (a method, property, descriptor, dispatch) only by a value
    of exactly its own type (a `TypeDispatch` by a `TypeDispatch` of registered functions).
    """
    if name in getattr(cls, "_methods", ()) and callable(value):
        return True  # a stage the class declares replaceable (`funcs_kwargs`), by a registered callable
    for klass in cls.__mro__:
        if name in vars(klass):
            current = vars(klass)[name]
            if isinstance(current, _PLAIN_CLASS_ATTR):
                return True
            return type(value) is type(current) and not isinstance(
                current, (types.FunctionType, property, staticmethod, classmethod)
            )
    return True


_ATOMS = {
    "$float": _float,
    "$dtype": _dtype,
    "$device": lambda v: torch.device(_expect(v, str)),
    "$size": lambda v: torch.Size([_expect(n, int) for n in _expect(v, list)]),
    "$path": lambda v: pathlib.Path(_expect(v, str)),
    "$npdtype": _np_dtype,
    "$random": _random,
}
_SEQUENCES = {"$tuple": tuple, "$set": set, "$frozenset": frozenset, "$slice": lambda v: slice(*v)}
_TAGS = (
    "$ref",
    "$obj",
    "$module",
    "$method",
    "$name",
    "$tensor",
    "$param",
    "$dict",
    "$ndarray",
    "$npscalar",
    "$enum",
    "$bytes",
    "$blob",
    *_ATOMS,
    *_SEQUENCES,
)


class ConfigReader:
    """One rebuilding pass over several configurations written by one `ConfigWriter`: `read` each in order.

    Resolves registered names, hands out `tensors`, remembers `$id`s so that later `$ref`s find them.
    """

    def __init__(self, tensors: dict[str, torch.Tensor], source: str = "the configuration"):
        self.tensors, self.source = tensors, source
        self.memo: dict[int, Any] = {}

    def read(self, config: Any, path: str = "obj") -> Any:
        """Rebuild `config` (`path` names it in errors); raises only `ConfigError`."""
        try:
            return self.build(config, path)
        except ConfigError:
            raise
        except RecursionError as e:
            raise self.fail(path, "the configuration is nested too deeply") from e

    def fail(self, path: str, problem: str) -> ConfigError:
        return ConfigError(f"cannot load {path} from {self.source}: {problem}")

    def build(self, spec: Any, path: str) -> Any:
        t = type(spec)
        if t in _PLAIN or t is float:
            return spec
        if t is list:
            return [self.build(s, f"{path}[{i}]") for i, s in enumerate(spec)]
        if t is not dict:
            raise self.fail(path, f"a configuration never holds a {t.__name__}")
        tag = next((k for k in _TAGS if k in spec), None)
        if tag is None:
            odd = [k for k in spec if not isinstance(k, str) or k.startswith("$")]
            if odd:
                raise self.fail(path, f"unknown keys {odd!r}")
            return {k: self.build(v, f"{path}[{k!r}]") for k, v in spec.items()}
        try:
            if tag in _ATOMS:
                return _ATOMS[tag](spec[tag])
            if tag in _SEQUENCES:
                return _SEQUENCES[tag](self.build(_expect(spec[tag], list), path))
            return getattr(self, f"build_{tag[1:]}")(spec, path)
        except ConfigError:
            raise
        except RegistryError as e:
            raise self.fail(path, str(e)) from e
        except RecursionError:
            raise
        except Exception as e:  # a malformed configuration: say where, whatever went wrong underneath
            raise self.fail(path, f"malformed {tag} ({type(e).__name__}: {e})") from e

    def component(self, name: Any, path: str, kinds: tuple[str, ...]) -> Any:
        component = find_component(_expect(name, str, "a registered name"))
        if component.kind not in kinds:
            raise self.fail(path, f"{name} is registered as a {component.kind}, not as {' or '.join(kinds)}")
        return component

    def register(self, spec: dict, obj: Any) -> None:
        n = spec.get("$id")
        if n is not None:
            self.memo[_expect(n, int, "an integer $id")] = obj

    def build_ref(self, spec: dict, path: str) -> Any:
        n = spec["$ref"]
        if type(n) is not int or n not in self.memo:
            raise self.fail(path, f"it refers to object {n!r}, which is not (yet) built")
        return self.memo[n]

    def build_name(self, spec: dict, path: str) -> Any:
        return self.component(spec["$name"], path, ("reference", "object", "module")).resolve()

    def build_method(self, spec: dict, path: str) -> Any:
        owner, name = self.build(spec["of"], path), _expect(spec["$method"], str)
        if not isinstance(owner, type) or _is_dunder(name):
            raise self.fail(path, f"{name!r} of {owner!r} is not a class method of a registered class")
        if not isinstance(inspect.getattr_static(owner, name, None), classmethod):
            raise self.fail(path, f"{owner.__qualname__}.{name} is not a class method")
        return getattr(owner, name)

    def build_bytes(self, spec: dict, path: str) -> bytes:
        return base64.b64decode(_expect(spec["$bytes"], str), validate=True)

    def build_blob(self, spec: dict, path: str) -> bytes:
        t = self.tensor_of(spec["$blob"], path)
        if t.dtype != torch.uint8 or t.dim() != 1:
            raise TypeError(
                f"bytes are kept as a 1-d uint8 tensor, found {t.dtype} of shape {tuple(t.shape)}"
            )
        return t.numpy().tobytes()

    def build_enum(self, spec: dict, path: str) -> enum.Enum:
        cls = self.component(spec["$enum"], path, ("object", "reference")).resolve()
        if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
            raise self.fail(path, f"{spec['$enum']} is not an enum")
        return cls[_expect(spec["member"], str)]

    def tensor_of(self, key: Any, path: str) -> torch.Tensor:
        t = self.tensors.get(_expect(key, str, "a tensor key"))
        if t is None:
            raise self.fail(path, f"it refers to the tensor {key!r}, which the weights do not hold")
        return t

    def build_tensor(self, spec: dict, path: str) -> torch.Tensor:
        data = self.tensor_of(spec["$tensor"], path)
        if "$class" not in spec:
            return data
        cls = self.component(spec["$class"], path, ("object", "reference")).resolve()
        if not (isinstance(cls, type) and issubclass(cls, torch.Tensor)):
            raise self.fail(path, f"{spec['$class']} is not a tensor class")
        out = data.as_subclass(cls)
        meta = self.attributes(spec.get("meta", {}), cls, path)
        out.__dict__.update(meta)
        return out

    def build_param(self, spec: dict, path: str) -> nn.Parameter:
        grad = spec.get("grad", True)
        if type(grad) is not bool:
            raise TypeError(f"grad must be true or false, found {grad!r}")
        p = nn.Parameter(self.tensor_of(spec["$param"], path), requires_grad=grad)
        self.register(spec, p)
        return p

    def build_dict(self, spec: dict, path: str) -> dict:
        return dict(self.pairs(spec["$dict"], path))

    def pairs(self, items: Any, path: str) -> list[tuple]:
        out = []
        for pair in _expect(items, list):
            k, v = _expect(pair, list, "a [key, value] pair")
            out.append((self.build(k, f"{path} key"), self.build(v, f"{path}[{k!r}]")))
        return out

    def build_ndarray(self, spec: dict, path: str) -> np.ndarray:
        data = spec["$ndarray"]
        if type(data) is str:
            return self.tensor_of(data, path).numpy().astype(_np_dtype(spec["dtype"]), copy=False)
        # described element by element: each element is rebuilt (plain data or registered objects)
        dtype = np.dtype(_expect(spec["dtype"], str))
        if dtype.kind not in "OUS":
            raise TypeError(f"an array described element by element holds objects or strings, not {dtype}")
        flat = self.build(_expect(data, list), path)
        shape = [_expect(n, int) for n in _expect(spec["shape"], list)]
        if math.prod(shape) != len(flat):
            raise self.fail(path, f"shape {shape} does not hold {len(flat)} values")
        out = np.empty(len(flat), dtype=dtype)
        for i, v in enumerate(flat):  # one by one: NumPy would read nested lists as more dimensions
            out[i] = v
        return out.reshape(shape)

    def build_npscalar(self, spec: dict, path: str) -> np.generic:
        value = self.build(spec["$npscalar"], path)
        if type(value) not in (bool, int, float, str):
            raise TypeError(f"a NumPy scalar holds a number, found {type(value).__name__}")
        return _np_dtype(spec["dtype"]).type(value)

    def attributes(self, spec: Any, cls: type, path: str) -> dict:
        """Rebuilt attributes for an instance of `cls`: names that are identifiers and never replace its behaviour."""
        spec = _expect(spec, dict, "attributes (a dict)")
        out = {}
        for k, v in spec.items():
            if not isinstance(k, str) or not k.isidentifier() or _is_dunder(k):
                raise self.fail(path, f"refusing to set the attribute {k!r}")
            value = self.build(v, f"{path}.{k}")
            if not _attr_allowed(cls, k, value):
                raise self.fail(
                    path, f"refusing to set {k!r}: it would replace {cls.__qualname__}.{k}, which is not data"
                )
            out[k] = value
        return out

    def kwargs(self, spec: Any, path: str) -> dict:
        """Rebuilt constructor arguments for `from_config`: identifiers mapped to rebuilt values."""
        spec = _expect(spec, dict, "constructor arguments (a dict)")
        bad = [k for k in spec if not isinstance(k, str) or not k.isidentifier() or _is_dunder(k)]
        if bad:
            raise self.fail(path, f"refusing the argument names {bad!r}")
        return {k: self.build(v, f"{path}.{k}") for k, v in spec.items()}

    def build_obj(self, spec: dict, path: str) -> Any:
        component = self.component(spec["$obj"], path, ("object",))
        cls = component.resolve()
        if not isinstance(cls, type) or issubclass(cls, nn.Module):
            raise self.fail(path, f"{spec['$obj']} is not a plain class")
        if component.decode is not None:
            obj = component.decode(**self.kwargs(spec.get("config", {}), path))
            self.register(spec, obj)
            return obj
        if "config" in spec:
            if not callable(getattr(cls, "from_config", None)):
                raise self.fail(path, f"{spec['$obj']} has no from_config")
            obj = cls.from_config(self.kwargs(spec["config"], path))
            self.register(spec, obj)
            return obj
        items = spec.get("items", [])
        if issubclass(cls, tuple):
            obj = tuple.__new__(cls, self.build(_expect(items, list), path))
        elif issubclass(cls, _VALUE_BASES):
            base = next(b for b in _VALUE_BASES if issubclass(cls, b))
            value = self.build(spec.get("value"), path)
            if type(value) is not base:
                raise self.fail(path, f"a {cls.__qualname__} needs a {base.__name__} value")
            obj = base.__new__(cls, value)
        else:
            obj = cls.__new__(cls)
        self.register(spec, obj)
        if isinstance(obj, list):
            list.extend(obj, self.build(_expect(items, list), path))
        elif isinstance(obj, dict):
            if isinstance(obj, defaultdict):
                factory = self.build(spec.get("factory"), f"{path}.default_factory")
                if factory is not None and not isinstance(factory, type):
                    raise self.fail(path, "a defaultdict's factory must be a registered class")
                obj.default_factory = factory
            setitem = OrderedDict.__setitem__ if isinstance(obj, OrderedDict) else dict.__setitem__
            for k, v in self.pairs(items, path):
                setitem(obj, k, v)
        state = self.attributes(spec.get("state", {}), cls, path)
        if _custom(cls, "__setstate__"):
            obj.__setstate__(state)
        else:
            for k, v in state.items():
                object.__setattr__(obj, k, v)
        return obj

    def build_module(self, spec: dict, path: str) -> nn.Module:
        cls = self.component(spec["$module"], path, ("module",)).resolve()
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise self.fail(path, f"{spec['$module']} is not an nn.Module")
        if "config" in spec:
            m = cls.from_config(self.kwargs(spec["config"], path))
            self.register(spec, m)
            return m
        m = cls.__new__(cls)
        self.register(spec, m)
        nn.Module.__init__(m)
        for kind, want in (("params", nn.Parameter), ("buffers", torch.Tensor), ("children", nn.Module)):
            for k, s in _expect(spec.get(kind, {}), dict).items():
                if (
                    not k or "." in k
                ):  # what nn.Module accepts as a name; kept in its dicts, never as attributes
                    raise self.fail(path, f"{kind} entry {k!r} is not a name")
                value = None if s is None else self.build(s, f"{path}.{k}")
                if value is not None and not isinstance(value, want):
                    raise self.fail(
                        path, f"{kind} entry {k!r} is a {type(value).__name__}, not a {want.__name__}"
                    )
                if kind == "params":
                    m._parameters[k] = value
                elif kind == "buffers":
                    m._buffers[k] = value
                    if not (s or {}).get("persistent", True):
                        m._non_persistent_buffers_set.add(k)
                else:
                    m._modules[k] = value
        for k, v in self.attributes(spec.get("state", {}), cls, path).items():
            if k in m._parameters or k in m._buffers or k in m._modules:
                raise self.fail(path, f"the attribute {k!r} would hide a parameter, buffer or child")
            object.__setattr__(m, k, v)
        if "parametrized" in spec:
            self.reparametrize(m, _expect(spec["parametrized"], list), path)
        return m

    def reparametrize(self, m: nn.Module, names: list, path: str) -> None:
        """Re-attach rebuilt parametrizations (weight norm, ...) with torch's public API, keeping the saved originals."""
        saved = m._modules.pop("parametrizations", None)
        if not isinstance(saved, nn.ModuleDict) or sorted(saved) != sorted(names):
            raise self.fail(path, f"parametrized tensors {names!r} do not match its parametrizations")
        for name in names:
            plist = saved[name]
            if not isinstance(plist, parametrize.ParametrizationList) or name in m._parameters:
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
