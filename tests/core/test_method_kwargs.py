import inspect

import pytest

from layered.core.errors import LayeredError
from layered.core.method_kwargs import FuncsKwargsError, funcs_kwargs


@funcs_kwargs
class Stages:
    """Runs `before` then `after`."""

    _methods = ["before", "after"]

    def __init__(self, scale=1):
        self.scale = scale

    def before(self, x):
        return x

    def after(self, x):
        return x * self.scale

    def run(self, x):
        return self.after(self.before(x))


class Negating(Stages):
    def before(self, x):
        return -x


class MoreStages(Stages):
    _methods = [*Stages._methods, "last"]

    def last(self, x):
        return x

    def run(self, x):
        return self.last(super().run(x))


@funcs_kwargs(as_method=True)
class Bound:
    _methods = ("value",)

    def __init__(self, v=5):
        self.v = v

    def value(self):
        return 0


def test_a_stage_is_replaced_by_keyword_on_that_instance_only():
    assert Stages(scale=2).run(3) == 6
    s = Stages(before=lambda x: x + 1, scale=2)
    assert s.run(3) == 8 and s.scale == 2
    assert "before" in vars(s) and "after" not in vars(s)
    assert Stages().run(3) == 3 and Stages.before(None, 3) == 3  # the class keeps its own method
    both = Stages(before=str, after=lambda x: x + "!")
    assert both.run(3) == "3!"


def test_subclasses_override_stages_and_extend_methods():
    assert Negating(scale=2).run(3) == -6
    assert Negating(before=abs, scale=2).run(-3) == 6  # a keyword beats the subclass method
    assert MoreStages(scale=2).run(3) == 6
    assert MoreStages(last=lambda x: x + 100, after=lambda x: x * 10).run(1) == 110


def test_as_method_binds_the_replacement():
    b = Bound(value=lambda self: self.v * 2)
    assert b.value() == 10 and b.value.__self__ is b
    assert Bound().value() == 0


def test_unknown_keywords_reach_the_original_init():
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        Stages(nope=1)

    @funcs_kwargs
    class Strict:
        _methods = ["step"]

        def __init__(self, **kwargs):
            self.rest = kwargs

        def step(self):
            return 1

    s = Strict(step=lambda: 2, other=3)
    assert s.rest == {"other": 3} and s.step() == 2


def test_decorated_init_keeps_its_name_doc_and_signature():
    assert Stages.__init__.__name__ == "__init__" and Stages.__init__.__qualname__ == "Stages.__init__"
    assert list(inspect.signature(Stages).parameters) == ["scale"]
    assert Stages.__doc__ == "Runs `before` then `after`."


def test_errors_name_the_class_and_the_stage():
    with pytest.raises(
        FuncsKwargsError, match="Stages: after= replaces a method, so it must be callable, found int 3"
    ):
        Stages(after=3)
    with pytest.raises(
        FuncsKwargsError, match=r"on .*NoList: expected a class attribute _methods.*found None"
    ):

        @funcs_kwargs
        class NoList:
            pass

    with pytest.raises(FuncsKwargsError, match="found 'before'"):

        @funcs_kwargs
        class TextList:
            _methods = "before"

    with pytest.raises(FuncsKwargsError) as info:
        Negating(before=None)
    err = info.value
    assert "Negating: before=" in str(err) and isinstance(err, TypeError) and isinstance(err, LayeredError)
