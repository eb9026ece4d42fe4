"""The note naming a failing item: written once, by the innermost site, keeping the exception's type."""

import pytest
import torch

from layered.core.item_errors import carry_note_from_worker, item_note, mark_step, note_item_error, short_repr
from layered.core.pipeline import Pipeline


def test_short_repr_cuts_long_values_and_names_tensors_by_shape():
    assert "..." in short_repr("x" * 500) and len(short_repr("x" * 500)) <= 80
    assert short_repr(torch.zeros(3, 4)) == "Tensor(shape=(3, 4), dtype=torch.float32)"
    assert short_repr([1, 2]) == "[1, 2]"


def test_note_is_added_once_and_names_the_marked_step():
    e = ZeroDivisionError("division by zero")
    mark_step(e, "inner")
    mark_step(e, "outer")  # the innermost step is kept
    note_item_error(e, 7, "cat_7.png", "setting up Categorize")
    note_item_error(e, 99, "other", "the loader")  # an outer site leaves the note as it is
    assert e.__notes__ == ["layered: item 7 ('cat_7.png') failed in setting up Categorize, at inner"]


def test_a_workers_note_is_carried_back_from_its_message():
    worker = ValueError(
        "Caught ValueError in DataLoader worker process 0.\nTraceback...\nValueError: bad\n"
        + item_note(3, "x", "DataLoader.reading")
    )
    carry_note_from_worker(worker)
    assert worker.__notes__ == ["layered: item 3 ('x') failed in DataLoader.reading"]


def _bad_label(o):
    return 1 / (o - 7)


def test_pipeline_setup_names_the_item_and_the_transform_that_raised():
    from layered.core.transform import Transform

    class Maximum(Transform):
        def setups(self, items):
            self.m = max(items)

    pipe = Pipeline([_bad_label, Maximum()])
    with pytest.raises(ZeroDivisionError) as info:
        pipe.setup(list(range(10)))
    assert info.value.__notes__ == ["layered: item 7 (7) failed in setting up Maximum, at _bad_label"]
