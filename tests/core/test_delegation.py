import copy
import inspect
import pickle

import pytest

from layered.core.delegation import DelegationError, GetAttr, delegates
from layered.core.errors import LayeredError


def base(a, b: int = 1, c=2, *args, d=3, e, **kwargs):
    return a + b + c + d + e


def params_of(f):
    return {n: (p.kind.name, p.default) for n, p in inspect.signature(f).parameters.items()}


# delegates --------------------------------------------------------------------------------
def test_delegates_on_a_function_shows_keywords_with_defaults():
    @delegates(base)
    def outer(a, **kwargs):
        return base(a, e=0, **kwargs)

    assert params_of(outer) == {
        "a": ("POSITIONAL_OR_KEYWORD", inspect.Parameter.empty),
        "b": ("KEYWORD_ONLY", 1),
        "c": ("KEYWORD_ONLY", 2),
        "d": ("KEYWORD_ONLY", 3),
    }  # `e` has no default and *args/**kwargs are not keywords, so they are not shown
    assert inspect.signature(outer).parameters["b"].annotation in (int, "int")
    assert outer(1, c=10) == 15  # behaviour is unchanged
    assert outer.__name__ == "outer" and not hasattr(outer, "__wrapped__")


def test_delegates_keep_but_and_existing_parameters():
    @delegates(base, keep=True, but=["c"])
    def kept(a, b=100, *rest, **options):
        return a

    sig = inspect.signature(kept)
    assert list(sig.parameters) == ["a", "b", "rest", "d", "options"]
    assert sig.parameters["b"].default == 100  # the function's own parameter wins

    @delegates(base, but="b, d")
    def text_but(**kwargs):
        return kwargs

    assert list(inspect.signature(text_but).parameters) == ["c"]
    assert text_but(x=1) == {"x": 1}


def test_delegates_to_a_class_uses_its_constructor():
    class Opt:
        def __init__(self, lr=0.1, mom=0.9):
            self.lr = lr

    @delegates(Opt)
    def make(params, **kwargs):
        return Opt(**kwargs)

    assert params_of(make) == {
        "params": ("POSITIONAL_OR_KEYWORD", inspect.Parameter.empty),
        "lr": ("KEYWORD_ONLY", 0.1),
        "mom": ("KEYWORD_ONLY", 0.9),
    }
    assert make(None, lr=0.5).lr == 0.5


class Base:
    def __init__(self, x=1, y=2):
        self.x, self.y = x, y


@delegates()
class Child(Base):
    def __init__(self, z=3, **kwargs):
        super().__init__(**kwargs)
        self.z = z


@delegates(but="x")
class GrandChild(Child):
    def __init__(self, w=4, **kwargs):
        super().__init__(**kwargs)


def test_delegates_on_classes_follows_the_base_init_and_chains():
    assert list(inspect.signature(Child).parameters) == ["z", "x", "y"]
    assert inspect.signature(Child).parameters["y"].default == 2
    assert list(inspect.signature(GrandChild).parameters) == ["w", "z", "y"]
    g = GrandChild(w=0, z=5, x=7)
    assert (g.x, g.y, g.z) == (7, 2, 5)
    assert list(inspect.signature(Base).parameters) == ["x", "y"]  # the base is untouched


def test_delegates_class_with_explicit_target():
    def configure(depth=2, width=8):
        return depth * width

    @delegates(configure, keep=True)
    class Model:
        def __init__(self, name, **kwargs):
            self.name, self.size = name, configure(**kwargs)

    assert list(inspect.signature(Model).parameters) == ["name", "depth", "width", "kwargs"]
    assert Model("m", width=3).size == 6


def test_delegates_errors():
    with pytest.raises(DelegationError, match=r"on .*plain: its signature \(a, b=1\) has no \*\*kwargs"):

        @delegates(base)
        def plain(a, b=1):
            return a

    with pytest.raises(DelegationError, match="say where \\*\\*kwargs go with to="):

        @delegates()
        def nowhere(**kwargs):
            return kwargs

    with pytest.raises(DelegationError, match=r"class .*Bare: it defines no __init__ of its own"):

        @delegates()
        class Bare(Base):
            pass

    with pytest.raises(DelegationError, match="cannot read the signature of 3"):

        @delegates(3)
        def bad_source(**kwargs):
            return kwargs

    with pytest.raises(DelegationError) as info:
        delegates()(lambda **kw: kw)
    err = info.value
    assert isinstance(err, TypeError) and isinstance(err, LayeredError)
    assert list(inspect.signature(Base.__init__).parameters) == ["self", "x", "y"]


# GetAttr ----------------------------------------------------------------------------------
class Holder(GetAttr):
    _default = "inner"

    def __init__(self, inner):
        self.inner = inner
        self.own = "mine"


class Wrapper(GetAttr):
    def __init__(self, default):
        self.default = default


class Picky(GetAttr):
    _xtra = ["real", "conjugate"]

    def __init__(self):
        self.default = 3 + 4j


def test_getattr_forwards_missing_public_names():
    h = Holder([3, 1, 2])
    assert h.count(1) == 1 and h.index(2) == 2 and h.own == "mine"
    h.append(5)
    assert h.inner == [3, 1, 2, 5]
    w = Wrapper("text")
    assert w.upper() == "TEXT" and w.default == "text"
    assert getattr(w, "missing", "fallback") == "fallback" and not hasattr(w, "missing")


def test_getattr_never_forwards_private_names_and_respects_xtra():
    h = Holder([1])
    with pytest.raises(AttributeError, match="'Holder' object has no attribute '_private'"):
        h._private
    with pytest.raises(AttributeError, match="'Holder' object has no attribute '__len__'"):
        h.__len__
    p = Picky()
    assert p.real == 3.0 and p.conjugate() == 3 - 4j
    with pytest.raises(AttributeError, match="'Picky' object has no attribute 'imag'"):
        p.imag


def test_getattr_errors_say_what_was_searched():
    with pytest.raises(AttributeError, match=r"no attribute 'nope', nor has its 'inner' \(list\)"):
        Holder([]).nope
    empty = Holder.__new__(Holder)  # no `inner` yet, as during unpickling
    with pytest.raises(AttributeError, match="'inner', where lookups are forwarded, is not set"):
        empty.count
    with pytest.raises(AttributeError, match="'inner', where lookups are forwarded, is not set"):
        empty.inner


def test_dir_includes_forwarded_names():
    names = dir(Holder([1]))
    assert {"count", "append", "own", "inner"} <= set(names) and "__len__" not in names
    assert names == sorted(names)
    picky = dir(Picky())
    assert "real" in picky and "conjugate" in picky and "imag" not in picky
    assert "count" not in dir(Holder.__new__(Holder))


def test_getattr_survives_pickle_copy_and_deepcopy():
    h = Holder([3, 1, 2])
    for clone in (pickle.loads(pickle.dumps(h)), copy.deepcopy(h), copy.copy(h)):
        assert type(clone) is Holder and clone.inner == [3, 1, 2] and clone.index(2) == 2
        assert clone.own == "mine"
    assert copy.deepcopy(h).inner is not h.inner and copy.copy(h).inner is h.inner
    p = pickle.loads(pickle.dumps(Picky()))
    assert p.real == 3.0
