"""Round trips with the defaults: tabular learners, exported and loaded, predict rows as before.

One test per row of issue 14's matrix: `tabular_learner` for classification and for regression,
each fitted one epoch (so batch-norm statistics and embeddings differ from a fresh model's).
"""

import pytest
import torch
from tabular_frames import CATS, CONTS, mixed_frame

from layered.core.seed import set_seed
from layered.tabular.learner import tabular_learner
from layered.tabular.procs import Categorify, FillMissing, TabularNormalize
from layered.tabular.tabular_pandas import TabularDataLoaders
from layered.train.learner import load_learner

PROCS = [Categorify, FillMissing, TabularNormalize]


def fitted(df, y_names, **kwargs):
    dls = TabularDataLoaders.from_df(
        df, procs=PROCS, cat_names=CATS, cont_names=CONTS, y_names=y_names, valid_pct=0.25, seed=0, bs=64
    )
    set_seed(0)
    learn = tabular_learner(dls, layers=[16, 8], **kwargs)
    with learn.no_logging():
        learn.fit(1, 1e-2)
    return learn


@pytest.fixture(scope="module")
def classifier():
    return fitted(mixed_frame(400), "y")


def test_export_and_load_round_trip(classifier, tmp_path):
    """Classification (moved from test_learner.py): the procs travel, the training rows do not."""
    df = mixed_frame(800)
    df["secret"] = "zq-never-exported"  # a column the model does not use, not even its name
    classifier.path = tmp_path
    file = classifier.export("tab.pth")
    assert b"zq-never-exported" not in file.read_bytes()
    loaded = load_learner(file)  # the safe path: registered components only, no code from the file
    rows = df.iloc[:50]
    expected = classifier.get_preds(dl=classifier.dls.test_dl(rows))[0]
    got = loaded.get_preds(dl=loaded.dls.test_dl(rows))[0]
    assert torch.allclose(expected, got, atol=1e-6)
    full, cls, probs = loaded.predict(df.iloc[3])
    assert full["y"].iloc[0] == ["no", "yes"][int(cls)] and torch.allclose(probs, expected[3], atol=1e-6)
    # and predict agrees with the live learner, on a row with a missing value and an unseen category
    row = df.iloc[5].copy()
    row["color"], row["a"] = "ultraviolet", float("nan")
    live_full, live_cls, live_probs = classifier.predict(row)
    full, cls, probs = loaded.predict(row)
    assert full["y"].iloc[0] == live_full["y"].iloc[0] and int(cls) == int(live_cls)
    assert probs.shape == (2,) and torch.allclose(probs, live_probs, atol=1e-6)


def assert_regression_round_trip(df, tmp_path):
    learn = fitted(df, "t", y_range=(float(df["t"].min()) - 1, float(df["t"].max()) + 1))
    learn.path = tmp_path
    loaded = load_learner(learn.export())
    new = mixed_frame(60, seed=1)  # rows neither set has seen
    expected = learn.get_preds(dl=learn.dls.test_dl(new))[0]
    got = loaded.get_preds(dl=loaded.dls.test_dl(new))[0]
    assert expected.shape == (60, 1) and expected.std() > 0
    assert got.shape == expected.shape and torch.allclose(got, expected, atol=1e-6)
    full, value, raw = learn.predict(new.iloc[4])
    full2, value2, raw2 = loaded.predict(new.iloc[4])
    assert full2["t"].iloc[0] == pytest.approx(full["t"].iloc[0], abs=1e-6)
    assert torch.allclose(value2, value, atol=1e-6) and torch.allclose(raw2, raw, atol=1e-6)
    assert float(value2[0]) == pytest.approx(float(expected[4, 0]), abs=1e-6)


def test_regression(tmp_path):
    assert_regression_round_trip(mixed_frame(400).drop(columns="y"), tmp_path)


def test_a_frame_with_an_unused_text_column(tmp_path):
    """Regression on a frame that also holds the text label `y`, which no part of the learner reads."""
    assert_regression_round_trip(mixed_frame(400), tmp_path)
