"""EmbeddingDotBias and EmbeddingNN: the documented formulas, id look-ups through the vocabularies, errors."""

import pytest
import torch

from layered.collab.errors import CollabError
from layered.collab.models import EmbeddingDotBias, EmbeddingNN

CLASSES = {"user": ["#na#", "ann", "bob", "cy"], "item": ["#na#", 10, 20]}


def test_dot_bias_computes_dot_plus_biases():
    model = EmbeddingDotBias(5, n_users=4, n_items=3)
    x = torch.tensor([[1, 2], [3, 0], [0, 1]])
    expected = (model.u_weight.weight[x[:, 0]] * model.i_weight.weight[x[:, 1]]).sum(1, keepdim=True)
    expected = expected + model.u_bias.weight[x[:, 0]] + model.i_bias.weight[x[:, 1]]
    out = model(x)
    assert out.shape == (3, 1) and torch.allclose(out, expected)
    out.sum().backward()
    assert model.u_weight.weight.grad[2].abs().sum() == 0  # user 2 is in no row


def test_y_range_bounds_the_predictions():
    torch.manual_seed(0)
    model = EmbeddingDotBias(3, 4, 3, y_range=(1.0, 5.0))
    with torch.no_grad():
        model.u_bias.weight.fill_(100.0)
    out = model(torch.tensor([[1, 1], [2, 2]]))
    assert torch.all(out <= 5.0) and torch.all(out >= 4.99)
    with pytest.raises(CollabError, match="low < high"):
        EmbeddingDotBias(3, 4, 3, y_range=(5.0, 1.0))


def test_bias_and_weight_read_rows_by_id():
    model = EmbeddingDotBias.from_classes(4, CLASSES)
    assert model.u_weight.num_embeddings == 4 and model.i_weight.num_embeddings == 3
    assert torch.equal(model.weight([20, 10]), model.i_weight.weight.detach()[[2, 1]])
    assert torch.equal(model.weight(["cy"], is_item=False), model.u_weight.weight.detach()[[3]])
    assert torch.equal(model.bias([10, 20]), model.i_bias.weight.detach()[[1, 2], 0])
    assert torch.equal(model.bias("bob", is_item=False), model.u_bias.weight.detach()[[2], 0])
    assert model.bias([10]).requires_grad is False
    with pytest.raises(CollabError, match=r"not in the 'item' vocabulary \(3 ids\), e.g. \[30\]"):
        model.weight([10, 30])
    with pytest.raises(CollabError, match="no vocabularies"):
        EmbeddingDotBias(4, 4, 3).bias([1])


def test_embedding_nn_is_a_tabular_model_on_two_embeddings():
    model = EmbeddingNN.from_classes([(4, 3), (3, 2)], [8], CLASSES, ps=0.1)
    assert [e.embedding_dim for e in model.embeds] == [3, 2] and model.n_cont == 0
    model.eval()
    x = torch.tensor([[1, 2], [3, 1], [0, 0]])
    out = model(x)
    assert out.shape == (3, 1) and torch.equal(out, model(x, None))
    assert torch.equal(model.weight([20]), model.embeds[1].weight.detach()[[2]])
    assert torch.equal(model.weight(["ann"], is_item=False), model.embeds[0].weight.detach()[[1]])
    with pytest.raises(CollabError, match="do not match the vocabulary sizes"):
        EmbeddingNN.from_classes([(5, 3), (3, 2)], [8], CLASSES)
    with pytest.raises(CollabError, match="two embedding sizes"):
        EmbeddingNN([(4, 3)], [8])


def test_inputs_of_the_wrong_shape_are_refused():
    model = EmbeddingDotBias(3, 4, 3)
    with pytest.raises(CollabError, match=r"shape \(bs, 2\).*got shape \(3,\)"):
        model(torch.tensor([1, 2, 0]))
    with pytest.raises(CollabError, match="positive sizes"):
        EmbeddingDotBias(0, 4, 3)
    with pytest.raises(CollabError, match="dict of two vocabularies"):
        EmbeddingDotBias.from_classes(3, {"user": ["#na#"]})
