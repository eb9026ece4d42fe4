"""pca, factor_pca and subspace_r2: exact components, ids as the index, recovery measured up to a linear map."""

import numpy as np
import pytest
import torch

from layered.collab.analysis import factor_pca, pca, subspace_r2
from layered.collab.errors import CollabError
from layered.collab.models import EmbeddingDotBias


def test_pca_finds_the_axes_of_known_data():
    rng = np.random.default_rng(0)
    rotation, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    scales = np.array([5.0, 2.0, 1.0, 0.1, 0.1])
    x = (rng.normal(size=(2000, 5)) * scales) @ rotation.T + 3.0
    res = pca(torch.tensor(x), n_components=2)
    assert res.coords.shape == (2000, 2) and res.components.shape == (2, 5)
    # the components are the first two rotated axes, up to sign
    overlap = np.abs(res.components.double().numpy() @ rotation[:, :2])
    assert np.allclose(overlap, np.eye(2), atol=0.02)
    share = scales**2 / (scales**2).sum()
    assert np.allclose(res.explained_variance_ratio.numpy(), share[:2], atol=0.02)
    assert res.coords[:, 0].std() == pytest.approx(5.0, rel=0.05) and abs(float(res.coords.mean())) < 1e-4
    # signs are fixed: each component's largest loading is positive, whatever the input's sign
    flipped = pca(-x, n_components=2)
    assert torch.allclose(flipped.components, res.components, atol=1e-5)
    assert (res.components.gather(1, res.components.abs().argmax(1, keepdim=True)) > 0).all()


def test_pca_errors():
    with pytest.raises(CollabError, match="between 1 and 3"):
        pca(np.zeros((10, 3)), n_components=4)
    with pytest.raises(CollabError, match="must be a matrix"):
        pca(np.zeros(10))


def test_factor_pca_indexes_by_id():
    classes = {"user": ["#na#", "ann", "bob"], "item": ["#na#", "a", "b", "c", "d"]}
    model = EmbeddingDotBias.from_classes(3, classes)
    frame = factor_pca(model, n_components=2)
    assert list(frame.index) == ["a", "b", "c", "d"] and frame.index.name == "item"
    assert list(frame.columns) == ["pc1", "pc2"] and len(frame.attrs["explained_variance_ratio"]) == 2
    expected = pca(model.weight(["a", "b", "c", "d"]), 2).coords.numpy()
    assert np.allclose(frame.to_numpy(), expected)
    users = factor_pca(model, ["ann", "bob"], n_components=1, is_item=False)
    assert list(users.index) == ["ann", "bob"] and users.index.name == "user"
    assert np.allclose(
        users["pc1"].abs(), abs(users["pc1"].iloc[0])
    )  # two points: symmetric about their mean
    with pytest.raises(CollabError, match="with vocabularies"):
        factor_pca(EmbeddingDotBias(3, 3, 5))


def test_subspace_r2_is_invariant_to_linear_maps_and_sees_unrelated_factors():
    rng = np.random.default_rng(0)
    true = rng.normal(size=(500, 3))
    mixed = true @ rng.normal(size=(3, 6)) + 2.0  # more learned factors than true ones, with an offset
    assert subspace_r2(mixed, true) == pytest.approx(1.0, abs=1e-9)
    assert subspace_r2(torch.tensor(mixed + rng.normal(0, 1.0, mixed.shape)), true) == pytest.approx(
        0.8, abs=0.1
    )
    assert subspace_r2(rng.normal(size=(500, 6)), true) < 0.05
    assert subspace_r2(true[:, :2], true) == pytest.approx(2 / 3, abs=0.05)
    with pytest.raises(CollabError, match="same ids in the same order"):
        subspace_r2(mixed[:10], true)
    with pytest.raises(CollabError, match="do not vary"):
        subspace_r2(mixed, np.ones((500, 3)))
