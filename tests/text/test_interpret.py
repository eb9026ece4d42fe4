"""TextClassificationInterpretation: the top losses of a text classifier as a table of decoded texts."""

from types import SimpleNamespace

import pytest
import torch

from layered.data.categorize import Categorize
from layered.data.datasets import Datasets
from layered.text.errors import TextError
from layered.text.interpret import TextClassificationInterpretation
from layered.text.tokenizer_transform import TextStr

TEXTS = ["a red cat", "a big dog", "one more cat"]


def interp_over(dataset, losses):
    preds = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    dl = SimpleNamespace(dataset=dataset)
    decoded = preds.argmax(1)
    return TextClassificationInterpretation(
        SimpleNamespace(dls=None), dl, preds, torch.tensor([0, 1, 0]), decoded, losses
    )


def test_top_losses_table_in_order_with_decoded_texts_targets_and_predictions(capsys):
    dsets = Datasets(
        list(range(3)), [[lambda i: TextStr(TEXTS[i])], [lambda i: ["cat", "dog", "cat"][i], Categorize()]]
    )
    interp = interp_over(dsets, torch.tensor([0.1, 0.2, 1.5]))
    top = interp.show_top_losses(2, trunc_at=2)
    assert list(top["loss"]) == pytest.approx([1.5, 0.2])
    assert list(top["text"]) == ["one more", "a big"]  # cut to two words
    assert list(top["target"]) == ["cat", "dog"] and list(top["prediction"]) == ["dog", "dog"]
    assert list(top["probability"]) == pytest.approx([0.6, 0.8])
    assert "one more" in capsys.readouterr().out


def test_a_loader_without_a_layered_dataset_is_refused():
    interp = interp_over([(1, 0)] * 3, torch.tensor([0.1, 0.2, 1.5]))
    with pytest.raises(TextError, match="needs a loader over a layered Datasets"):
        interp.show_top_losses(1)
