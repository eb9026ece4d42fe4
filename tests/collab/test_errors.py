"""CollabError: what layered-collab raises, a TabularError (collab builds on tabular)."""

import pytest

from layered.collab.dataloaders import CollabDataLoaders
from layered.collab.errors import CollabError
from layered.tabular.errors import TabularError


def test_collab_error_is_a_tabular_error_naming_the_wrong_input():
    assert issubclass(CollabError, TabularError)
    with pytest.raises(TabularError, match="needs a pandas DataFrame, got list"):
        CollabDataLoaders.from_df([(1, 2, 3.0)])
