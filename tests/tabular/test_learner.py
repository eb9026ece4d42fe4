"""tabular_learner: learns classification and (multi-target) regression, predicts rows (exports: test_export.py)."""

import numpy as np
import pytest
from tabular_frames import CATS, CONTS, mixed_frame

from layered.core.seed import set_seed
from layered.data.blocks import RegressionBlock
from layered.data.normalize import Normalize
from layered.tabular.errors import TabularError
from layered.tabular.learner import tabular_learner
from layered.tabular.procs import Categorify, FillMissing
from layered.tabular.tabular_pandas import TabularDataLoaders, TabularPandas
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat, MSELossFlat
from layered.train.metrics.classification import accuracy

PROCS = [Categorify, FillMissing, Normalize]


def dls_of(df, y_names="y", **kwargs):
    return TabularDataLoaders.from_df(
        df,
        procs=PROCS,
        cat_names=CATS,
        cont_names=CONTS,
        y_names=y_names,
        valid_pct=0.25,
        seed=0,
        bs=64,
        **kwargs,
    )


def trained(dls, epochs=6, lr=1e-2, **kwargs):
    set_seed(0)
    learn = tabular_learner(dls, layers=[32, 16], **kwargs)
    with learn.no_logging():
        learn.fit_one_cycle(epochs, lr)
    return learn


@pytest.fixture(scope="module")
def classifier():
    return trained(dls_of(mixed_frame(800)), metrics=accuracy)


def test_classification_learns(classifier):
    assert isinstance(classifier, Learner) and isinstance(classifier.loss_func, CrossEntropyLossFlat)
    assert classifier.model.layers[-1][0].out_features == 2
    _, acc = classifier.validate()
    assert acc >= 0.85  # the label depends on `a` (10 % missing) and the colour


def test_predict_returns_the_decoded_row_class_and_probabilities(classifier):
    df = mixed_frame(800)
    row = df.iloc[7]
    full, cls, probs = classifier.predict(row)
    assert probs.shape == (2,) and float(probs.sum()) == pytest.approx(1, abs=1e-5)
    assert int(cls) == int(probs.argmax())
    assert full["y"].iloc[0] == ["no", "yes"][int(cls)]
    assert full["color"].iloc[0] == row["color"] and full["b"].iloc[0] == pytest.approx(row["b"], rel=1e-5)
    unseen = row.copy()
    unseen["color"] = "ultraviolet"  # maps to #na#, still predicts
    assert classifier.predict(unseen)[2].shape == (2,)


def test_show_results(classifier):
    frame = classifier.show_results(max_n=5, show=False)
    assert len(frame) == 5 and set(frame["y_pred"]) <= {"no", "yes"} and set(frame["y"]) <= {"no", "yes"}


def test_regression_with_y_range():
    df = mixed_frame(800)
    dls = dls_of(df, y_names="t")
    learn = trained(dls, epochs=8, y_range=(df["t"].min() - 1, df["t"].max() + 1))
    assert isinstance(learn.loss_func, MSELossFlat)
    preds, targs = learn.get_preds()
    assert preds.shape == targs.shape == (len(dls.valid_ds), 1)
    assert float(((preds - targs) ** 2).mean()) < 0.2 * float(targs.var())
    assert preds.min() > df["t"].min() - 1 and preds.max() < df["t"].max() + 1
    full, value, _ = learn.predict(df.iloc[0])
    assert full["t"].iloc[0] == pytest.approx(float(value[0]), rel=1e-5)


def test_multi_target_regression():
    df = mixed_frame(800)
    df["t2"] = -df["t"] + 3
    dls = dls_of(df, y_names=["t", "t2"], y_block=RegressionBlock())
    learn = trained(dls, epochs=8, lr=3e-2)
    assert learn.model.layers[-1][0].out_features == 2
    preds, targs = learn.get_preds()
    assert preds.shape == targs.shape == (len(dls.valid_ds), 2)
    errors = ((preds - targs) ** 2).mean(0) / targs.var(0)
    assert (errors < 0.2).all()


def test_learner_errors():
    df = mixed_frame(100)
    dls = dls_of(df)
    with pytest.raises(TabularError, match="not categorical columns"):
        tabular_learner(dls, emb_szs={"nope": 3})
    assert tabular_learner(dls, n_out=5).model.layers[-1][0].out_features == 5
    unlabelled = TabularPandas(df, PROCS, CATS, CONTS).dataloaders()
    with pytest.raises(TabularError, match="no targets; pass n_out"):
        tabular_learner(unlabelled)


def test_real_data_reaches_the_gradient_boosting_baseline():
    """Palmer penguins (a real mixed table that a package ships): species from island, sex and measurements."""
    penguins = pytest.importorskip("palmerpenguins")
    from sklearn.ensemble import HistGradientBoostingClassifier

    df = penguins.load_penguins()
    cats, conts = ["island", "sex"], ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    valid_idx = np.random.default_rng(0).permutation(len(df))[:86]
    dls = TabularDataLoaders.from_df(
        df, procs=PROCS, cat_names=cats, cont_names=conts, y_names="species", valid_idx=valid_idx, bs=32
    )
    learn = trained(dls, epochs=10, metrics=accuracy)
    acc = learn.validate()[1]
    train = df.drop(index=valid_idx)
    x = df[cats + conts].astype({c: "category" for c in cats})
    hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    hgb.fit(x.drop(index=valid_idx), train["species"])
    baseline = (hgb.predict(x.loc[valid_idx]) == df.loc[valid_idx, "species"]).mean()
    assert acc >= 0.95 and acc >= baseline - 0.03


def test_tabular_factories_show_the_parameters_they_forward():
    import inspect

    from layered.tabular.learner import tabular_learner

    assert {"loss_func", "opt_func", "lr", "metrics", "wd"} <= set(
        inspect.signature(tabular_learner).parameters
    )
    from_csv = inspect.signature(TabularDataLoaders.from_csv).parameters
    assert {"procs", "cat_names", "valid_pct", "bs", "val_bs", "device", "kwargs"} <= set(from_csv)
