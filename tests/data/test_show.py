import torch

from layered.core.dispatch import typedispatch
from layered.core.tensor_types import TensorBase
from layered.data import show as shows
from layered.data.show import samples_frame, show_batch, show_results


class Shown(str):
    """An element whose `show` gives text: the table uses it."""

    def show(self, ctx=None, **kwargs):
        return f"<{self}>"


class Drawn:
    """An element whose `show` draws (returns no text): the table falls back to its value."""

    def show(self, ctx=None, **kwargs):
        return ctx

    def __str__(self):
        return "drawn"


class TShowTestImage(TensorBase):
    """A type only this test registers a `show_batch` for."""


@typedispatch
def show_batch(x: TShowTestImage, y, samples, ctxs=None, max_n: int = 9, **kwargs):  # noqa: F811
    return ("grid", len(samples[:max_n]), type(y).__name__)


def test_samples_frame_uses_show_and_shortens_big_tensors():
    samples = [(torch.tensor([1.0, 2.0]), Shown("cat")), (torch.zeros(3, 4), Drawn())]
    frame = samples_frame(samples)
    assert list(frame.columns) == ["item_0", "item_1"]
    assert frame.iloc[0].tolist() == ["[1.0, 2.0]", "<cat>"]
    assert frame.iloc[1].tolist() == ["Tensor(3, 4)", "drawn"]
    assert samples_frame([7, 8])["item_0"].tolist() == ["7", "8"]  # single elements are 1-tuples
    with_preds = samples_frame([(1, "a")], outs=[("b",)])
    assert with_preds.iloc[0].tolist() == ["1", "a", "b"]


def test_generic_show_batch_prints_and_returns_the_table(capsys):
    samples = [(torch.tensor([float(i)]), Shown(f"c{i}")) for i in range(12)]
    frame = show_batch(torch.zeros(12, 1), torch.zeros(12), samples, max_n=4)
    out = capsys.readouterr().out
    assert len(frame) == 4 and frame["item_1"].tolist() == ["<c0>", "<c1>", "<c2>", "<c3>"]
    assert "<c3>" in out and "<c4>" not in out
    res = show_results(torch.zeros(2, 1), None, samples[:2], [("p0",), ("p1",)])
    assert res["pred_0"].tolist() == ["p0", "p1"] and "p1" in capsys.readouterr().out


def test_show_batch_dispatches_on_the_input_type():
    x = TShowTestImage(torch.zeros(5, 3))
    assert shows.show_batch(x, torch.zeros(5), [(i,) for i in range(5)], max_n=3) == ("grid", 3, "Tensor")
    assert len(shows.show_batch(torch.zeros(5, 3), None, [(1,)])) == 1  # other types: the generic table
