"""DataError: what layered-data raises, a LayeredError and a ValueError."""

import pytest

from layered.core.errors import LayeredError
from layered.data.datasets import Datasets
from layered.data.errors import DataError


def test_data_error_is_a_layered_value_error_raised_with_its_reason():
    assert issubclass(DataError, LayeredError) and issubclass(DataError, ValueError)
    with pytest.raises(DataError, match="Datasets needs items"):
        Datasets()
