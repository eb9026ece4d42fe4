"""Round trips with the defaults: collab learners (dot product and network), exported and loaded, predict as before.

One test per row of issue 14's matrix, on the learners `conftest.py` trains once for the session.
"""

import pytest
import torch

from layered.train.learner import load_learner


@pytest.mark.parametrize("kind", ["dot_learner", "nn_learner"])
def test_export_and_load_round_trip(kind, request, tmp_path):
    """Moved from test_learner.py: ids seen in training, unseen ids (the #na# embedding), predict on a pair."""
    learn = request.getfixturevalue(kind)
    learn.path = tmp_path
    loaded = load_learner(learn.export("collab.pth"))  # registered components only, no code from the file
    assert type(loaded.model) is type(learn.model) and loaded.model.classes == learn.model.classes
    pairs = [(3, 5), (250, 199), ("nobody", 7)]
    expected = learn.get_preds(dl=learn.dls.test_dl(pairs))[0]
    assert torch.allclose(loaded.get_preds(dl=loaded.dls.test_dl(pairs))[0], expected, atol=1e-6)
    assert float(loaded.predict((3, 5))[1][0]) == pytest.approx(float(expected[0, 0]), abs=1e-6)
    assert torch.equal(loaded.model.weight([5, 6]), learn.model.weight([5, 6]))
    # predict gives the live learner's decoded row, value and raw output
    row, value, raw = learn.predict({"user": "a stranger", "item": 42})
    row2, value2, raw2 = loaded.predict({"user": "a stranger", "item": 42})
    assert row2.equals(row) and list(row2.columns) == ["user", "item", "rating"]
    assert torch.allclose(value2, value, atol=1e-6) and torch.allclose(raw2, raw, atol=1e-6)
