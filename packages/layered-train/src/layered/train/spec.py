"""A declarative, code-free description of objects, so exported learners load without pickle.

`to_spec(obj)` turns transforms, pipelines, vocabularies, semantic tensors and `nn.Module` trees
into dicts, lists, strings, numbers and tensors — what `torch.load(weights_only=True)` accepts.
`from_spec(spec)` rebuilds them: classes are looked up by name in an allow-list (layered's own
modules and `torch.nn`, plus what the caller allows) and recreated with `__new__` and attribute
assignment only; no `__init__`, `__reduce__` or `__setstate__` from the file ever runs.
Whatever cannot be described this way (a lambda, a local function, an open file) is refused
when exporting, with the path of the object in the structure.
"""

from __future__ import annotations

import importlib
import pathlib
import types
from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from layered.core.dispatch import TypeDispatch
from layered.core.pipeline import Pipeline
from layered.core.tensor import TensorBase
from layered.train.errors import TrainError

__all__ = ["DEFAULT_ALLOW", "from_spec", "to_spec"]

DEFAULT_ALLOW = ("layered.", "torch.nn.", "torch.Tensor")
_PRIMITIVES = (str, int, float, bool, type(None))
_MODULE_INTERNALS = frozenset(nn.Module().__dict__)
_HOOKS = tuple(k for k in _MODULE_INTERNALS if "hook" in k)


def _name_of(obj: Any) -> str:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        return ""
    return f"{module}.{qualname}"


def _importable(name: str, obj: Any) -> bool:
    try:
        return _lookup(name) is obj
    except Exception:
        return False


def to_spec(obj: Any, path: str = "obj") -> Any:
    """Describe `obj` with plain containers, primitives and tensors; raise naming `path` if impossible."""
    if isinstance(obj, _PRIMITIVES):
        return obj
    if isinstance(obj, TensorBase):
        return {
            "__tensor__": obj.as_subclass(torch.Tensor).detach().cpu(),
            "__class__": _class_name(obj, path),
            "meta": to_spec(dict(obj.__dict__), f"{path}.meta"),
        }
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, (torch.dtype, torch.device)):
        return {"__torch__": type(obj).__name__, "value": str(obj)}
    if isinstance(obj, pathlib.PurePath):
        return {"__path__": str(obj)}
    if isinstance(obj, slice):
        return {"__slice__": [to_spec(obj.start), to_spec(obj.stop), to_spec(obj.step)]}
    if isinstance(obj, (set, frozenset)):
        return {"__set__": [to_spec(o, f"{path}[{i}]") for i, o in enumerate(obj)]}
    if type(obj) is tuple:
        return {"__tuple__": [to_spec(o, f"{path}[{i}]") for i, o in enumerate(obj)]}
    if type(obj) is list:
        return [to_spec(o, f"{path}[{i}]") for i, o in enumerate(obj)]
    if type(obj) in (dict, OrderedDict):
        if not all(isinstance(k, _PRIMITIVES) for k in obj):
            return {
                "__items__": [
                    [to_spec(k, f"{path}.key"), to_spec(v, f"{path}[{k!r}]")] for k, v in obj.items()
                ]
            }
        return {
            "__dict__": {str(k): to_spec(v, f"{path}[{k!r}]") for k, v in obj.items()},
            "keys": [k for k in obj],
        }
    if isinstance(obj, TypeDispatch):
        return {
            "__dispatch__": [to_spec(f, f"{path}.funcs[{i}]") for i, f in enumerate(obj.funcs)],
            "skip_self": obj.skip_self,
        }
    if isinstance(obj, Pipeline):
        return {
            "__pipeline__": [to_spec(f, f"{path}.fs[{i}]") for i, f in enumerate(obj.fs)],
            "split_idx": obj.split_idx,
        }
    if isinstance(obj, nn.Module):
        return _module_spec(obj, path)
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, type)):
        name = _name_of(obj)
        if name.startswith("__main__."):
            raise TrainError(
                f"cannot export {path}: {name} is defined in the script being run (__main__), so "
                "no other program can find it; move it to a module and import it"
            )
        if not name or not _importable(name, obj):
            what = "a lambda" if obj.__name__ == "<lambda>" else f"{obj!r}"
            raise TrainError(
                f"cannot export {path}: it is {what}, which cannot be found again by name; "
                "use a function or class defined at module level"
            )
        return {"__ref__": name}
    if isinstance(obj, (types.MethodType, types.GeneratorType, types.ModuleType)) or hasattr(obj, "fileno"):
        raise TrainError(f"cannot export {path}: {type(obj).__name__} objects ({obj!r}) cannot be described")
    state = obj.__getstate__() if type(obj).__getstate__ is not object.__getstate__ else dict(vars(obj))
    if not isinstance(state, dict):
        raise TrainError(f"cannot export {path}: {type(obj).__name__} has a custom state that is not a dict")
    out = {"__class__": _class_name(obj, path), "state": to_spec(state, f"{path}")}
    if isinstance(obj, list):
        out["items"] = [to_spec(o, f"{path}[{i}]") for i, o in enumerate(obj)]
    return out


def _class_name(obj: Any, path: str) -> str:
    name = _name_of(type(obj))
    if name.startswith("__main__."):
        raise TrainError(
            f"cannot export {path}: its class {name} is defined in the script being run (__main__); "
            "move it to a module and import it"
        )
    if not name or not _importable(name, type(obj)):
        raise TrainError(
            f"cannot export {path}: its class {type(obj).__qualname__} is not importable by name"
        )
    return name


def _module_spec(m: nn.Module, path: str) -> dict:
    for hook in _HOOKS:
        if getattr(m, hook, None):
            raise TrainError(f"cannot export {path}: the module has {hook} registered; remove hooks first")
    attrs = {k: v for k, v in vars(m).items() if k not in _MODULE_INTERNALS}
    params = {
        k: None if p is None else [list(p.shape), str(p.dtype), p.requires_grad]
        for k, p in m._parameters.items()
    }
    buffers = {
        k: None if b is None else [list(b.shape), str(b.dtype), k not in m._non_persistent_buffers_set]
        for k, b in m._buffers.items()
    }
    return {
        "__nn__": _class_name(m, path),
        "attrs": to_spec(attrs, path),
        "training": m.training,
        "params": params,
        "buffers": buffers,
        "children": {k: None if c is None else _module_spec(c, f"{path}.{k}") for k, c in m._modules.items()},
    }


def _lookup(name: str):
    # find the longest importable module prefix, then walk the attributes
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


def _allowed(name: str, allow: tuple, trusted: bool) -> bool:
    if any(p.startswith("__") for p in name.split(".")):
        return False
    if trusted:
        return True
    return any(
        name == a or name.startswith(a if a.endswith(".") else a + ".") for a in (*DEFAULT_ALLOW, *allow)
    )


def _resolve(name: str, allow: tuple, trusted: bool, source: str):
    if not _allowed(name, allow, trusted):
        raise TrainError(
            f"refusing to load {name} from {source}: not in the allow-list ({', '.join(DEFAULT_ALLOW)}"
            f"{', ' + ', '.join(allow) if allow else ''}); pass allow=[...] (or trusted=True) only "
            "if you trust this file"
        )
    try:
        return _lookup(name)
    except Exception as e:
        raise TrainError(f"{source} names {name}, which cannot be imported here: {e}") from e


def from_spec(spec: Any, allow: tuple | list = (), trusted: bool = False, source: str = "the file") -> Any:
    """Rebuild what `to_spec` described, instantiating only allow-listed classes."""
    allow = tuple(allow)

    def build(s):
        if isinstance(s, (torch.Tensor, *_PRIMITIVES)):
            return s
        if isinstance(s, list):
            return [build(o) for o in s]
        if not isinstance(s, dict):
            raise TrainError(f"{source} holds an unexpected {type(s).__name__} in a spec")
        if "__tensor__" in s:
            cls = _resolve(s["__class__"], allow, trusted, source)
            if not (isinstance(cls, type) and issubclass(cls, TensorBase)):
                raise TrainError(f"{source}: {s['__class__']} is not a semantic tensor type")
            out = s["__tensor__"].as_subclass(cls)
            out.__dict__.update(build(s["meta"]))
            return out
        if "__torch__" in s:
            return (
                torch.device(s["value"])
                if s["__torch__"] == "device"
                else getattr(torch, s["value"].split(".")[-1])
            )
        if "__path__" in s:
            return pathlib.Path(s["__path__"])
        if "__slice__" in s:
            return slice(*build(s["__slice__"]))
        if "__set__" in s:
            return set(build(s["__set__"]))
        if "__tuple__" in s:
            return tuple(build(s["__tuple__"]))
        if "__dict__" in s:
            values = {k: build(v) for k, v in s["__dict__"].items()}
            return {k: values[str(k)] for k in s["keys"]}
        if "__items__" in s:
            return {build(k): build(v) for k, v in s["__items__"]}
        if "__ref__" in s:
            return _resolve(s["__ref__"], allow, trusted, source)
        if "__dispatch__" in s:
            return TypeDispatch([build(f) for f in s["__dispatch__"]], skip_self=s["skip_self"])
        if "__pipeline__" in s:
            return Pipeline([build(f) for f in s["__pipeline__"]], split_idx=s["split_idx"])
        if "__nn__" in s:
            return build_module(s)
        if "__class__" in s:
            cls = _resolve(s["__class__"], allow, trusted, source)
            if not isinstance(cls, type):
                raise TrainError(f"{source}: {s['__class__']} is not a class")
            obj = cls.__new__(cls)
            if "items" in s:
                list.extend(obj, build(s["items"]))
            obj.__dict__.update(build(s["state"]))
            return obj
        raise TrainError(f"{source} holds a spec this version does not know: keys {sorted(s)}")

    def build_module(s):
        cls = _resolve(s["__nn__"], allow, trusted, source)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise TrainError(f"{source}: {s['__nn__']} is not an nn.Module")
        m = cls.__new__(cls)
        nn.Module.__init__(m)
        for k, v in build(s["attrs"]).items():
            object.__setattr__(m, k, v)
        for k, p in s["params"].items():
            m._parameters[k] = (
                None
                if p is None
                else nn.Parameter(
                    torch.empty(p[0], dtype=getattr(torch, p[1].split(".")[-1])), requires_grad=p[2]
                )
            )
        for k, b in s["buffers"].items():
            m.register_buffer(
                k,
                None if b is None else torch.empty(b[0], dtype=getattr(torch, b[1].split(".")[-1])),
                persistent=True if b is None else b[2],
            )
        for k, c in s["children"].items():
            m._modules[k] = None if c is None else build_module(c)
        m.train(s["training"])
        return m

    return build(spec)
