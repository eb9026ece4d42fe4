"""TabularError: what layered-tabular raises, a LayeredError and a ValueError."""

import pytest

from layered.core.errors import LayeredError
from layered.tabular.errors import TabularError
from layered.tabular.tab_loader import TabDataLoader


def test_tabular_error_is_a_layered_value_error_naming_what_was_wrong():
    assert issubclass(TabularError, LayeredError) and issubclass(TabularError, ValueError)
    with pytest.raises(ValueError, match="TabDataLoader needs a TabularPandas, got dict"):
        TabDataLoader({"a": [1, 2]})
