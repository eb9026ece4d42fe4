"""Interpretation: look at what a trained model gets wrong, from one pass of predictions over a dataset.

`Interpretation.from_learner(learn)` runs `get_preds` once, keeping predictions, targets, decoded
predictions and per-item losses; every method reads them, none predicts again. The plots show
items through the data's own `show_results` (dispatched on its types), so this module knows no
domain. `ClassificationInterpretation` adds the confusion matrix and the classification report.
"""

from __future__ import annotations

from typing import Any

import torch

from layered.train.errors import TrainError
from layered.train.learner import Learner

__all__ = ["ClassificationInterpretation", "Interpretation"]


def _plain(t: torch.Tensor) -> torch.Tensor:
    return t.as_subclass(torch.Tensor) if isinstance(t, torch.Tensor) else t


def _vocab(dls: Any) -> Any:
    """The class names of the (first) target: `dls.vocab`, else the vocabulary of a target transform."""
    vocab = getattr(dls, "vocab", None)
    if vocab is not None:
        return vocab
    ds = getattr(dls, "train_ds", None)
    tls = getattr(ds, "tls", [])[getattr(ds, "n_inp", 1) :]
    return (
        next((f.vocab for f in reversed(tls[0].tfms.fs) if getattr(f, "vocab", None) is not None), None)
        if tls
        else None
    )


class Interpretation:
    """Predictions, targets, decoded predictions and per-item losses of `learn` over the loader `dl`."""

    def __init__(
        self,
        learn: Learner,
        dl: Any,
        preds: torch.Tensor,
        targs: torch.Tensor,
        decoded: torch.Tensor,
        losses: torch.Tensor,
    ):
        self.learn, self.dl = learn, dl
        self.preds, self.targs, self.decoded, self.losses = preds, targs, decoded, losses

    @classmethod
    def from_learner(cls, learn: Learner, ds_idx: int = 1, dl: Any = None) -> Interpretation:
        """Predict once over `dl` (default: the loader `ds_idx` of `learn.dls`) and keep the results."""
        dl = learn.dls[ds_idx] if dl is None else dl
        if hasattr(dl, "new"):
            dl = dl.new(shuffle=False, drop_last=False)
        preds, targs, decoded, losses = learn.get_preds(dl=dl, with_decoded=True, with_loss=True)
        if losses is None:
            raise TrainError(f"{cls.__name__} needs targets to compute losses; the loader {dl!r} gives none")
        return cls(learn, dl, preds, targs, decoded, losses)

    def top_losses(self, k: int | None = None, largest: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The `k` largest (or smallest) losses and the indices of their items (all of them when `k` is None)."""
        k = len(self.losses) if k is None else min(k, len(self.losses))
        return self.losses.topk(k, largest=largest)

    def _batch_of(self, idxs: torch.Tensor) -> Any:
        """The items at `idxs` of the loader's dataset, as one batch made by the loader."""
        if not hasattr(self.dl, "make_batch"):
            raise TrainError(
                "plotting needs a layered DataLoader, which can rebuild a batch from item indices"
            )
        dl = self.dl.new(bs=len(idxs), shuffle=False, drop_last=False)
        return dl.make_batch(idxs.tolist())

    def _annotation(self, i: int) -> str:
        return f"loss {self.losses[i].item():.2f}"

    def show_results(self, idxs: Any, **kwargs: Any) -> Any:
        """Show the items at positions `idxs` of the loader's dataset with their targets and predictions; returns the plot.

        The data's `show_results` draws them; `kwargs` go to it.
        """
        if not hasattr(self.dl, "show_results"):
            raise TrainError("show_results needs a loader with show_results (a layered TfmdDL)")
        idxs = torch.as_tensor(idxs, dtype=torch.long).flatten()
        bad = [int(i) for i in idxs if not 0 <= i < len(self.preds)]
        if bad or not len(idxs):
            raise TrainError(
                f"show_results: idxs {bad or '[]'} name no item; expected at least one index in [0, {len(self.preds)})"
            )
        return self.dl.show_results(self._batch_of(idxs), self.decoded[idxs], max_n=len(idxs), **kwargs)

    def plot_top_losses(self, k: int = 9, largest: bool = True, **kwargs: Any) -> Any:
        """Show the `k` items with the largest (or smallest) losses with their predictions; returns the plot.

        The data's `show_results` draws them (e.g. images titled "target / prediction"); each item
        is then annotated with its loss. `kwargs` go to `show_results`.
        """
        if not hasattr(self.dl, "show_results"):
            raise TrainError("plot_top_losses needs a loader with show_results (a layered TfmdDL)")
        _, idxs = self.top_losses(k, largest)
        b = self._batch_of(idxs)
        outs = self.decoded[idxs]
        shown = self.dl.show_results(b, outs, max_n=len(idxs), **kwargs)
        notes = [self._annotation(int(i)) for i in idxs]
        if hasattr(shown, "insert") and hasattr(shown, "columns"):  # the generic table: add a column
            shown.insert(len(shown.columns), "interpretation", notes[: len(shown)])
            return shown
        axes = list(getattr(shown, "flat", shown)) if shown is not None else []
        per_item = max(1, len(axes) // max(1, len(notes)))
        for note, ax in zip(notes, axes[::per_item]):
            if hasattr(ax, "set_title"):
                title = ax.get_title()
                ax.set_title(f"{title}\n{note}" if title else note, color=ax.title.get_color())
        return shown


class ClassificationInterpretation(Interpretation):
    """Interpretation of single-label classification: confusion matrix, most confused pairs, report.

    Predictions hold class scores on dimension 1 and targets class indices; every other dimension
    (e.g. the pixels of a segmentation) counts as more items.
    """

    def __init__(self, learn: Learner, dl: Any, preds, targs, decoded, losses):
        super().__init__(learn, dl, preds, targs, decoded, losses)
        if preds.ndim < 2 or decoded.shape != targs.shape:
            raise TrainError(
                f"{type(self).__name__} needs class scores (bs, n_classes, ...) and class-index targets; got "
                f"predictions {tuple(preds.shape)}, decoded {tuple(decoded.shape)}, targets {tuple(targs.shape)}"
            )
        vocab = _vocab(learn.dls)
        self.vocab = list(vocab) if vocab is not None else [str(i) for i in range(preds.shape[1])]
        if len(self.vocab) != preds.shape[1]:
            raise TrainError(
                f"{type(self).__name__}: the vocabulary has {len(self.vocab)} classes but predictions score "
                f"{preds.shape[1]}"
            )
        self._cm: torch.Tensor | None = None

    def _annotation(self, i: int) -> str:
        if self.preds.ndim != 2:
            return super()._annotation(i)
        p = self.preds[i, int(self.decoded[i])].item()
        return f"{super()._annotation(i)}, p {p:.2f}"

    def confusion_matrix(self) -> torch.Tensor:
        """Counts `cm[actual, predicted]` (rows: targets, columns: predictions), as scikit-learn orders them."""
        if self._cm is None:
            n = len(self.vocab)
            t, d = _plain(self.targs).reshape(-1).long(), _plain(self.decoded).reshape(-1).long()
            self._cm = torch.bincount(t * n + d, minlength=n * n).reshape(n, n)
        return self._cm

    def most_confused(self, min_val: int = 1) -> list[tuple[str, str, int]]:
        """`(actual, predicted, count)` for every wrong pair seen at least `min_val` times, most frequent first."""
        cm = self.confusion_matrix().clone()
        cm.fill_diagonal_(0)
        pairs = [
            (self.vocab[a], self.vocab[p], int(cm[a, p]))
            for a, p in (cm >= max(min_val, 1)).nonzero().tolist()
        ]
        return sorted(pairs, key=lambda o: -o[2])

    def plot_confusion_matrix(
        self,
        normalize: bool = False,
        title: str = "Confusion matrix",
        cmap: str = "Blues",
        norm_dec: int = 2,
        plot_txt: bool = True,
        figsize: tuple[float, float] | None = None,
    ) -> Any:
        """Plot the confusion matrix (rows normalised to sum to 1 with `normalize`); returns the figure."""
        import matplotlib.pyplot as plt

        cm = self.confusion_matrix().double()
        if normalize:
            cm = cm / cm.sum(1, keepdim=True).clamp_min(1)
        n = len(self.vocab)
        fig, ax = plt.subplots(figsize=figsize or (max(4, n * 0.6), max(4, n * 0.6)))
        ax.imshow(cm.numpy(), interpolation="nearest", cmap=cmap)
        ax.set_title(title)
        ax.set_xticks(range(n), self.vocab, rotation=90)
        ax.set_yticks(range(n), self.vocab)
        ax.set_xlabel("Predicted")
        ax.set_ylabel("Actual")
        if plot_txt:
            threshold = cm.max().item() / 2
            for a in range(n):
                for p in range(n):
                    v = cm[a, p].item()
                    text = f"{v:.{norm_dec}f}" if normalize else f"{int(v)}"
                    ax.text(p, a, text, ha="center", va="center", color="white" if v > threshold else "black")
        fig.tight_layout()
        return fig

    def classification_report(self) -> str:
        """scikit-learn's precision/recall/F1 report per class, as text."""
        from sklearn.metrics import classification_report

        return classification_report(
            _plain(self.targs).reshape(-1).numpy(),
            _plain(self.decoded).reshape(-1).numpy(),
            labels=list(range(len(self.vocab))),
            target_names=[str(v) for v in self.vocab],
            zero_division=0,
        )

    def print_classification_report(self) -> None:
        """Print `classification_report()`."""
        print(self.classification_report())
