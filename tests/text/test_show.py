"""show_batch and show_results for texts: tables of decoded texts, targets and predictions."""

from layered.text.numericalize import TensorText
from layered.text.show import texts_frame
from layered.text.tokenizer_transform import TextStr


def test_texts_frame_cuts_texts_and_names_the_columns():
    samples = [(TextStr("a b c d"), "pos"), (TextStr("e f"), "neg")]
    frame = texts_frame(samples, trunc_at=2)
    assert list(frame.columns) == ["text", "target"]
    assert list(frame["text"]) == ["a b", "e f"] and list(frame["target"]) == ["pos", "neg"]
    with_preds = texts_frame(samples, outs=[("neg",), ("neg",)], trunc_at=None)
    assert list(with_preds.columns) == ["text", "target", "prediction"]
    assert list(with_preds["text"]) == ["a b c d", "e f"] and list(with_preds["prediction"]) == ["neg", "neg"]


def test_a_language_models_text_target_is_named_text_():
    lm = texts_frame([(TextStr("a b"), TextStr("b c"))], y=TensorText([1, 2]))
    assert list(lm.columns) == ["text", "text_"] and lm["text_"][0] == "b c"
