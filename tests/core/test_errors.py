"""LayeredError: the base of every library error, so one `except LayeredError` catches them all."""

import pytest

from layered.core.delegation import DelegationError, delegates
from layered.core.errors import LayeredError


def test_core_errors_derive_from_layered_error_and_keep_their_builtin_kind():
    assert issubclass(DelegationError, LayeredError) and issubclass(DelegationError, TypeError)
    with pytest.raises(LayeredError, match="say where \\*\\*kwargs go"):
        delegates()(lambda **kwargs: None)
