"""ONNX and torch.export of tabular learners: missing values and normalization inside the graph (issue 17)."""

import numpy as np
import pytest
import torch
from graph_parity import assert_graph_parity
from tabular_frames import CATS, CONTS, mixed_frame

from layered.core.seed import set_seed
from layered.tabular.learner import tabular_learner
from layered.tabular.procs import Categorify, FillMissing, TabularNormalize
from layered.tabular.tabular_pandas import TabularDataLoaders


def fitted(df, y_names, **kwargs):
    dls = TabularDataLoaders.from_df(
        df,
        procs=[Categorify, FillMissing, TabularNormalize],
        cat_names=CATS,
        cont_names=CONTS,
        y_names=y_names,
        valid_pct=0.25,
        seed=0,
        bs=64,
    )
    set_seed(0)
    learn = tabular_learner(dls, layers=[16, 8], **kwargs)
    with learn.no_logging():
        learn.fit(1, 1e-2)
    return learn


def served_inputs(rows, sidecar):
    """What a server does with the sidecar alone: categorical values to codes, continuous values to float32 (NaN kept)."""
    cat = sidecar["outside"]["categorical"]
    codes = [
        [cat["levels"][c].index(v) + 1 if v in cat["levels"][c] else 0 for v in rows[c]]
        for c in cat["columns"]
    ]
    conts = rows[sidecar["outside"]["continuous"]["columns"]].to_numpy(np.float32)
    return torch.tensor(codes, dtype=torch.int64).T.contiguous(), torch.from_numpy(conts.copy())


def rows_with_surprises():
    rows = mixed_frame(800, seed=1).iloc[:7].copy()
    rows.loc[rows.index[0], "color"] = "ultraviolet"  # a level training never saw: code 0
    rows.loc[rows.index[1], "a"] = np.nan  # a missing value: filled, and flagged in a_na, inside the graph
    rows.loc[rows.index[2], "color"] = None
    return rows


def check(learn, tmp_path):
    rows = rows_with_surprises()

    def served(sidecar):
        inputs = served_inputs(rows, sidecar)
        assert torch.isnan(inputs[1]).any() and (inputs[0] == 0).any()  # the surprises reach the graph
        return inputs

    return assert_graph_parity(learn, learn.dls.test_dl(rows), served, tmp_path)


def test_classifier_matches_get_preds(tmp_path):
    learn = fitted(mixed_frame(400), "y")
    sidecar = check(learn, tmp_path)
    assert [i["name"] for i in sidecar["inputs"]] == ["categorical", "continuous"]
    assert sidecar["inputs"][0]["shape"] == ["batch", 2]  # color, size: a_na is computed in the graph
    assert sidecar["outside"]["categorical"]["levels"]["color"] == ["blue", "green", "red"]
    assert sidecar["outside"]["graph_steps"] == ["FillMissing", "TabularNormalize"]
    assert sidecar["decoding"]["classes"] == ["no", "yes"]


def test_regression_with_y_range_matches_get_preds(tmp_path):
    df = mixed_frame(400)
    low, high = float(df["t"].min()) - 1, float(df["t"].max()) + 1
    learn = fitted(df, "t", y_range=(low, high))
    sidecar = check(learn, tmp_path)
    assert sidecar["decoding"]["y_range"] == pytest.approx([low, high])
    assert sidecar["decoding"]["decoded"] == "preds"
