"""Interpretation from one pass of predictions: top losses, confusion matrix, most confused, report."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from train_tasks import mlp

from layered.core.seed import set_seed
from layered.data.blocks import CategoryBlock, TransformBlock
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.errors import TrainError
from layered.train.interpret import ClassificationInterpretation, Interpretation
from layered.train.learner import Learner

G = torch.Generator().manual_seed(0)
LABELS = torch.randint(0, 3, (240,), generator=G)
# class 2 overlaps class 1, so the trained model confuses some of them
POINTS = torch.randn(240, 2, generator=G) * 0.6 + torch.stack(
    [LABELS.clamp(max=1).float() * 3, LABELS.eq(2) * 0.5], 1
)


def get_point(i):
    return POINTS[i]


def get_name(i):
    return ["ant", "bee", "cat"][int(LABELS[i])]


@pytest.fixture(scope="module")
def learn():
    set_seed(0)
    dblock = DataBlock(
        blocks=(TransformBlock(), CategoryBlock()),
        get_x=get_point,
        get_y=get_name,
        splitter=RandomSplitter(0.25, seed=0),
    )
    learn = Learner(dblock.dataloaders(list(range(240)), bs=32), mlp(2, 3))
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    learn.fit_one_cycle(3, 1e-2)
    return learn


def test_one_pass_of_predictions(learn, monkeypatch):
    calls = []
    original = Learner.get_preds

    def counting(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Learner, "get_preds", counting)
    interp = ClassificationInterpretation.from_learner(learn)
    interp.confusion_matrix()
    interp.most_confused()
    interp.top_losses(5)
    interp.classification_report()
    assert len(calls) == 1 and calls[0]["with_loss"] and calls[0]["with_decoded"]
    n = len(learn.dls.valid_ds)
    assert interp.preds.shape == (n, 3) and interp.targs.shape == (n,) and interp.losses.shape == (n,)
    assert torch.equal(interp.decoded, interp.preds.argmax(1))


def test_top_losses_match_recomputed_cross_entropy(learn):
    interp = Interpretation.from_learner(learn)
    per_item = -interp.preds.log().gather(1, interp.targs.long()[:, None])[:, 0]  # preds are softmaxed
    assert torch.allclose(interp.losses, per_item, atol=1e-4)
    values, idxs = interp.top_losses(4)
    assert torch.equal(values, interp.losses.sort(descending=True).values[:4])
    assert torch.equal(interp.losses[idxs], values)
    smallest, _ = interp.top_losses(3, largest=False)
    assert torch.equal(smallest, interp.losses.sort().values[:3])
    assert len(interp.top_losses()[0]) == len(per_item)


def test_confusion_matrix_matches_sklearn_and_most_confused_order(learn):
    interp = ClassificationInterpretation.from_learner(learn)
    assert interp.vocab == ["ant", "bee", "cat"]
    cm = interp.confusion_matrix()
    expected = sk_confusion_matrix(interp.targs.numpy(), interp.decoded.numpy(), labels=[0, 1, 2])
    np.testing.assert_array_equal(cm.numpy(), expected)
    assert cm.sum() == len(learn.dls.valid_ds)
    confused = interp.most_confused()
    assert confused, "the overlapping classes should be confused at least once"
    wrong = [
        (a, p, int(expected[a, p])) for a in range(3) for p in range(3) if a != p and expected[a, p] >= 1
    ]
    assert sorted(c for _, _, c in confused) == sorted(c for _, _, c in wrong)
    assert [c for _, _, c in confused] == sorted((c for _, _, c in confused), reverse=True)
    a, p, c = confused[0]
    assert c == expected[interp.vocab.index(a), interp.vocab.index(p)]
    assert all(c >= 2 for _, _, c in interp.most_confused(min_val=2))


def test_fixed_predictions_confusion_and_report(learn):
    targs = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2, 2])
    decoded = torch.tensor([0, 1, 1, 2, 2, 2, 2, 0, 2])
    preds = torch.nn.functional.one_hot(decoded, 3).float()
    interp = ClassificationInterpretation(learn, learn.dls.valid, preds, targs, decoded, torch.zeros(9))
    assert interp.confusion_matrix().tolist() == [[1, 1, 0], [0, 1, 2], [1, 0, 3]]
    assert interp.most_confused() == [("bee", "cat", 2), ("ant", "bee", 1), ("cat", "ant", 1)]
    report = interp.classification_report()
    assert "ant" in report and "cat" in report and "0.60" in report  # cat: precision 3/5
    fig = interp.plot_confusion_matrix(normalize=True)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[:3] == ["0.50", "0.50", "0.00"]
    with pytest.raises(TrainError, match="class scores"):
        ClassificationInterpretation(learn, learn.dls.valid, preds[:, 0], targs, decoded, torch.zeros(9))


def test_plot_top_losses_annotates_the_generic_table(learn):
    interp = ClassificationInterpretation.from_learner(learn)
    shown = interp.plot_top_losses(3)
    assert isinstance(shown, pd.DataFrame) and len(shown) == 3
    _, idxs = interp.top_losses(3)
    names = [get_name(learn.dls.valid_ds.items[int(i)]) for i in idxs]
    assert shown["item_1"].tolist() == names  # the rebuilt batch holds the top-loss items, in order
    assert shown["interpretation"].iloc[0].startswith(f"loss {interp.losses[idxs[0]].item():.2f}")


def test_show_results_of_chosen_items(learn):
    interp = ClassificationInterpretation.from_learner(learn)
    shown = interp.show_results([4, 0, 7])
    assert isinstance(shown, pd.DataFrame) and len(shown) == 3
    items = learn.dls.valid_ds.items
    assert shown["item_1"].tolist() == [get_name(items[i]) for i in (4, 0, 7)]  # targets, in the order asked
    vocab = list(interp.vocab)
    assert shown.iloc[:, -1].tolist() == [vocab[int(interp.decoded[i])] for i in (4, 0, 7)]  # predictions
    with pytest.raises(
        TrainError, match=r"idxs \[60\] name no item; expected at least one index in \[0, 60\)"
    ):
        interp.show_results([1, 60])
