"""The registry of serializable components: the only classes and functions a saved file may name.

A file written by the library (a learner export, a saved configuration) names components by a
registered name and never holds code. Loading it looks each name up here and nowhere else: an
unregistered name is refused, whatever it would import. Register with one decorator:

```python
@register_serializable
class MyModel(nn.Module): ...

@register_serializable(name="my_project.label_func")
def label_func(path): ...
```

How a registered class is described and rebuilt (see `layered.core.config`):
- by default, by its state — its attributes (what `__getstate__` returns for a class that defines
  one), each itself plain data, a tensor or a registered component; rebuilt by `cls.__new__`,
  then the class's own `__setstate__` or attribute assignment, never over a method or property;
- `nn.Module`s by their children, parameters and buffers (from the weights) and plain attributes;
- a class that defines `get_config()` and a classmethod `from_config(config)` (Keras' protocol)
  by the constructor arguments it returns, rebuilt by `from_config`;
- a class or function used as a value (`act_cls=nn.ReLU`, `get_y=parent_label`) by its name.

Third-party classes are registered lazily by name (`register_lazy`), so the library can accept
torchvision's model blocks without importing torchvision until a file or a model names them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from torch import nn

from layered.core.errors import LayeredError

__all__ = [
    "Component",
    "RegistryError",
    "find_component",
    "register_adapter",
    "register_lazy",
    "register_serializable",
    "registered_name",
]

T = TypeVar("T")


class RegistryError(LayeredError, LookupError):
    """A name is not in the registry, or a component was registered twice under different objects."""


@dataclass
class Component:
    """One registered class or function: its stable `name`, where it lives, and how it is described.

    `kind` is "object" (state or `get_config`), "module" (an `nn.Module`), "reference" (named
    only, e.g. a function or a type used as a value). `exclude` lists attributes left out of the
    description (caches, handles), rebuilt by the class itself. An adapter (`register_adapter`)
    has `encode` (instance to constructor arguments) and `decode` (arguments to instance).
    """

    name: str
    module: str
    qualname: str
    kind: str = "object"
    exclude: tuple[str, ...] = ()
    target: Any = None
    encode: Callable[[Any], dict] | None = None
    decode: Callable[..., Any] | None = None

    def resolve(self) -> Any:
        """The registered object, importing its module the first time (lazy registrations)."""
        if self.target is None:
            obj: Any = importlib.import_module(self.module)
            for part in self.qualname.split("."):
                obj = getattr(obj, part)
            self.target = obj
        return self.target


_BY_NAME: dict[str, Component] = {}
_BY_QUALIFIED: dict[str, Component] = {}  # "module.qualname" -> component, for lazily registered ones
_BY_ID: dict[int, Component] = {}


def _kind_of(obj: Any) -> str:
    if not isinstance(obj, type):
        return "reference"
    return "module" if issubclass(obj, nn.Module) else "object"


def _add(component: Component) -> Component:
    old = _BY_NAME.get(component.name)
    if old is not None and (old.module, old.qualname) != (component.module, component.qualname):
        raise RegistryError(
            f"register_serializable: the name {component.name!r} already names {old.module}.{old.qualname}; "
            "pass a different name="
        )
    _BY_NAME[component.name] = component
    _BY_QUALIFIED[f"{component.module}.{component.qualname}"] = component
    if component.target is not None:
        _BY_ID[id(component.target)] = component
    return component


def register_serializable(
    obj: T | None = None,
    *,
    name: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
    reference: bool = False,
) -> Any:
    """Register a class or function so saved files may name it; usable as `@register_serializable(...)`.

    `name` defaults to `module.qualname`; keep it stable across versions of your code.
    `exclude` names attributes left out of the description (caches the class rebuilds itself);
    subclasses inherit the exclusions of every registered class they derive from.
    `reference=True` registers a class only to be named as a value (a type in a list of types),
    never rebuilt. Classes defined inside functions and lambdas cannot be registered.
    """

    def register(o: T) -> T:
        qualname = getattr(o, "__qualname__", None)
        module = getattr(o, "__module__", None)
        if not (isinstance(qualname, str) and isinstance(module, str)) or "<" in qualname:
            raise RegistryError(
                f"register_serializable: {o!r} has no importable name (a lambda or a local definition); "
                "define it at module level"
            )
        kind = "reference" if reference else _kind_of(o)
        _add(Component(name or f"{module}.{qualname}", module, qualname, kind, tuple(exclude), o))
        return o

    return register if obj is None else register(obj)


def register_lazy(qualified: str, kind: str = "object", exclude: tuple[str, ...] = ()) -> None:
    """Register the third-party class or function `qualified` ("package.module.Name") without importing it now."""
    module, _, qualname = qualified.rpartition(".")
    if kind not in ("object", "module", "reference"):
        raise RegistryError(f"register_lazy: kind must be 'object', 'module' or 'reference', got {kind!r}")
    _add(Component(qualified, module, qualname, kind, tuple(exclude)))


def register_adapter(
    cls: type, encode: Callable[[Any], dict], decode: Callable[..., Any], name: str | None = None
) -> None:
    """Describe instances of a class you do not own by constructor arguments: `encode(obj) -> dict`, `decode(**args)`.

    `decode` is what loading calls, with the arguments `encode` gave (rebuilt); e.g. compiled
    regular expressions are `encode=lambda p: {"pattern": p.pattern, "flags": p.flags}`, `decode=re.compile`.
    """
    _add(
        Component(
            name or f"{cls.__module__}.{cls.__qualname__}",
            cls.__module__,
            cls.__qualname__,
            "object",
            (),
            cls,
            encode,
            decode,
        )
    )


def find_component(name: str) -> Component:
    """The component registered as `name`; a `RegistryError` when there is none."""
    component = _BY_NAME.get(name)
    if component is None:
        raise RegistryError(
            f"{name!r} is not a registered component: import the module that registers it "
            "(@register_serializable) before loading"
        )
    return component


def registered_name(obj: Any) -> Component | None:
    """The component under which `obj` (a class or function) is registered, or None."""
    component = _BY_ID.get(id(obj))
    if component is not None and component.target is obj:
        return component
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    component = _BY_QUALIFIED.get(f"{module}.{qualname}")
    if component is not None and component.resolve() is obj:
        _BY_ID[id(obj)] = component
        return component
    return None
