"""TextError: what layered-text raises, a LayeredError and a ValueError."""

import pytest

from layered.core.errors import LayeredError
from layered.text.errors import TextError
from layered.text.tokenize import tokenize_texts


def test_text_error_is_a_layered_value_error_naming_the_item():
    assert issubclass(TextError, LayeredError) and issubclass(TextError, ValueError)
    with pytest.raises(TextError, match="text 1 is int 7, expected a string"):
        tokenize_texts(["fine", 7], n_workers=1)
