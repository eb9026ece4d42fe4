"""ONNX and torch.export of collab learners: the id look-up inside the graph (issue 17)."""

import pytest
import torch
from graph_parity import assert_graph_parity


@pytest.mark.parametrize("kind", ["dot_learner", "nn_learner"])
def test_collab_matches_get_preds_with_ids_looked_up_in_the_graph(kind, request, tmp_path):
    learn = request.getfixturevalue(kind)
    pairs = [(3, 5), (250, 199), (10**6, 7), (1, 2), (42, 10**6)]  # an unseen user, an unseen item
    dl = learn.dls.test_dl(pairs)
    ids = torch.tensor(pairs, dtype=torch.int64)  # raw ids: the graph finds their codes
    sidecar = assert_graph_parity(learn, dl, (ids,), tmp_path)
    assert sidecar["outside"]["categorical"]["in_graph"] == {"user": True, "item": True}
    assert sidecar["inputs"] == [{"name": "categorical", "dtype": "int64", "shape": ["batch", 2]}]
