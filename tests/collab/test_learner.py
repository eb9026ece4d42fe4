"""collab_learner: reaches the noise floor, recovers the true factors, predicts pairs, shows results (exports: test_export.py)."""

import numpy as np
import pandas as pd
import pytest
import torch

from layered.collab.analysis import subspace_r2
from layered.collab.errors import CollabError
from layered.collab.learner import collab_learner
from layered.collab.models import EmbeddingDotBias, EmbeddingNN
from layered.tabular.model import emb_sz_rule
from layered.train.learner import Learner

NOISE = 0.2  # the noise of the `truth` fixture: the best reachable RMSE


def valid_rmse(learn):
    preds, targs = learn.get_preds()
    return float(((preds - targs) ** 2).mean().sqrt())


def bias_only_rmse(dls):
    """What a model of user and item biases alone reaches: the interactions are the rest."""
    train, valid = dls.train_ds.items, dls.valid_ds.items
    r = dls.rating_name
    mean = train[r].mean()
    ub = (train[r] - mean).groupby(train[dls.user_name]).mean()
    ib = (train[r] - mean - train[dls.user_name].map(ub)).groupby(train[dls.item_name]).mean()
    pred = mean + valid[dls.user_name].map(ub).fillna(0) + valid[dls.item_name].map(ib).fillna(0)
    return float(np.sqrt(((valid[r] - pred) ** 2).mean()))


def test_dot_model_reaches_the_noise_floor_and_recovers_the_true_factors(dot_learner, dls, truth):
    assert isinstance(dot_learner, Learner) and isinstance(dot_learner.model, EmbeddingDotBias)
    assert dot_learner.model.i_weight.embedding_dim == 8
    err = valid_rmse(dot_learner)
    assert err == pytest.approx(dot_learner.validate()[1], rel=1e-4)
    assert NOISE / 1.05 <= err < 1.25 * NOISE  # the floor is the noise; biases alone reach ~1.0
    assert bias_only_rmse(dls) > 4 * NOISE
    model, n_users, n_items = dot_learner.model, len(truth.user_factors), len(truth.item_factors)
    assert truth.noise == NOISE
    assert subspace_r2(model.weight(range(n_items)), truth.item_factors) > 0.97
    assert subspace_r2(model.weight(range(n_users), is_item=False), truth.user_factors) > 0.97
    # the learned biases plus the average user's taste for each item track the true item effects
    learned = model.bias(range(n_items)) + model.weight(range(n_items)) @ model.weight(
        range(n_users), False
    ).mean(0)
    true = truth.item_bias + truth.item_factors @ truth.user_factors.mean(0)
    assert np.corrcoef(learned.numpy(), true)[0, 1] > 0.97


def test_network_learns_the_interactions(nn_learner, dls):
    assert isinstance(nn_learner.model, EmbeddingNN)
    sizes = [emb_sz_rule(len(dls.classes[c])) for c in (dls.user_name, dls.item_name)]
    assert [e.embedding_dim for e in nn_learner.model.embeds] == sizes == [39, 31]  # 301 and 201 ids
    assert valid_rmse(nn_learner) < 0.4 * bias_only_rmse(dls)


def test_predict_on_pairs_matches_the_model_and_the_truth(dot_learner, truth):
    row, value, raw = dot_learner.predict((17, 42))
    assert list(row.columns) == ["user", "item", "rating"] and (row["user"].iloc[0], row["item"].iloc[0]) == (
        17,
        42,
    )
    assert row["rating"].iloc[0] == pytest.approx(float(value[0]), rel=1e-6) and torch.equal(value, raw)
    codes = torch.tensor(
        [[dot_learner.dls.classes["user"].index(17), dot_learner.dls.classes["item"].index(42)]]
    )
    assert float(value[0]) == pytest.approx(float(dot_learner.model(codes)[0, 0].detach()), rel=1e-5)
    pairs = [(u, i) for u, i in zip(range(0, 300, 7), range(0, 200, 5))]
    preds = dot_learner.get_preds(dl=dot_learner.dls.test_dl(pairs))[0][:, 0].numpy()
    expected = truth.expected([p[0] for p in pairs], [p[1] for p in pairs])
    assert np.sqrt(((preds - expected) ** 2).mean()) < NOISE


def test_unseen_ids_get_the_na_embedding(dot_learner):
    row, value, _ = dot_learner.predict({"user": "a stranger", "item": 42})
    assert pd.isna(row["user"].iloc[0]) and row["item"].iloc[0] == 42  # #na# decodes to a missing id
    na_code = torch.tensor([[0, dot_learner.dls.classes["item"].index(42)]])
    assert float(value[0]) == pytest.approx(float(dot_learner.model(na_code)[0, 0].detach()), rel=1e-5)


def test_show_results(dot_learner):
    frame = dot_learner.show_results(max_n=6, show=False)
    assert list(frame.columns) == ["user", "item", "rating", "rating_pred"] and len(frame) == 6
    assert np.sqrt(((frame["rating"] - frame["rating_pred"]) ** 2).mean()) < 3 * NOISE


def test_collab_learner_errors(dls):
    with pytest.raises(CollabError, match="layers, config apply to the network"):
        collab_learner(dls, layers=[10], config={})
    with pytest.raises(CollabError, match="needs CollabDataLoaders"):
        collab_learner([dls.train, dls.valid])
    learn = collab_learner(dls, use_nn=True, emb_szs={"item": 7}, layers=[4], config={"ps": 0.5})
    assert learn.model.embeds[1].embedding_dim == 7 and learn.model.layers[0][3].p == 0.5


def test_collab_factories_show_the_parameters_they_forward():
    import inspect

    from layered.collab.dataloaders import CollabDataLoaders
    from layered.collab.learner import collab_learner

    assert {"loss_func", "opt_func", "lr", "metrics", "wd"} <= set(
        inspect.signature(collab_learner).parameters
    )
    from_csv = inspect.signature(CollabDataLoaders.from_csv).parameters
    assert {"user_name", "rating_name", "valid_pct", "bs", "path", "device"} <= set(from_csv)
