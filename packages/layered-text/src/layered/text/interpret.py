"""What a text classifier gets wrong: its predictions over a dataset, ranked by loss, as decoded texts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from layered.text.errors import TextError
from layered.train.interpret import ClassificationInterpretation

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TextClassificationInterpretation"]


class TextClassificationInterpretation(ClassificationInterpretation):
    """`ClassificationInterpretation` of a text classifier, whose top losses show as a table of decoded texts.

    The tensors are in the dataset's order (`dl.dataset[i]` is item `i`), whatever order the
    loader served the items in. Build one with `from_learner(learn)`.
    """

    def _decoded_item(self, i: int) -> tuple:
        ds = self.dl.dataset
        if not hasattr(ds, "decode"):
            raise TextError("show_top_losses needs a loader over a layered Datasets, to decode the texts")
        item = ds[i]
        # the prediction decodes through the target's pipeline once it has the target's type
        pred = self.decoded[i]
        if isinstance(item[-1], torch.Tensor) and isinstance(pred, torch.Tensor):
            pred = pred.as_subclass(type(item[-1]))
        decoded = ds.decode(item)
        return decoded[0], decoded[-1], ds.decode((*item[:-1], pred))[-1]

    def show_top_losses(self, k: int = 5, trunc_at: int | None = 150) -> pd.DataFrame:
        """A table of the `k` items of highest loss: text (cut to `trunc_at` words), target, prediction, probability, loss."""
        import pandas as pd

        vals, idxs = self.top_losses(k)
        rows = []
        for loss, i in zip(vals.tolist(), idxs.tolist()):
            text, target, pred = self._decoded_item(i)
            if trunc_at is not None and hasattr(text, "truncate"):
                text = text.truncate(trunc_at)
            prob = self.preds[i].max().item() if self.preds[i].ndim else self.preds[i].item()
            rows.append(
                {"text": str(text), "target": target, "prediction": pred, "probability": prob, "loss": loss}
            )
        frame = pd.DataFrame(rows, columns=["text", "target", "prediction", "probability", "loss"])
        print(frame.to_string())
        return frame
