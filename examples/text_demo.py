"""ULMFiT on real English text that ships with every Python: the language reference in `pydoc_data`.

`pydoc_data.topics` holds the text of the Python Language Reference that `help()` shows. Its
prose paragraphs (code samples and headings left out, about 37,000 words) are the corpus.

1. A small AWD-LSTM language model learns the corpus (90% of the paragraphs; the other 10%
   validate). Its validation perplexity is printed beside the unigram baseline's (each token
   predicted by its training-set frequency) on the same validation tokens.
2. `save_encoder`, then a classifier with its own vocabulary loads the encoder (mapped by token)
   and is trained by gradual unfreezing; the same classifier trained from scratch, on the same
   schedule, shows what the language model brings.

No labelled text set ships with the installed packages, so the classification task is made from
the corpus and depends on word order only: is a sentence as written, or are its words
shuffled? Each sentence appears once, in one form or the other, so both classes have the same
distribution of bags of words and a bag-of-words classifier (a logistic regression on word
counts, printed as the baseline) stays near chance. Sentences from the validation paragraphs,
which the language model never read, validate the classifier.

Run: `python examples/text_demo.py` (about two minutes on two CPU cores).
"""

from __future__ import annotations

import random
import re
import tempfile
import time
from pydoc_data.topics import topics

import pandas as pd
import torch

from layered.text.awd_lstm import AWD_LSTM
from layered.text.dataloaders import TextDataLoaders
from layered.text.learner import language_model_learner, text_classifier_learner
from layered.train.metrics.classification import accuracy

CONFIG = {"emb_sz": 128, "n_hid": 256, "n_layers": 2}
_HEADING = re.compile(r"[*=\-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")


def prose_paragraphs() -> list[str]:
    """The paragraphs of running text in the language reference: no code (indented), no headings."""
    paragraphs = []
    for text in topics.values():
        for block in re.split(r"\n\s*\n", text):
            lines = block.split("\n")
            if any(line.startswith("   ") for line in lines) or _HEADING.fullmatch(lines[-1].strip() or "-"):
                continue
            paragraph = " ".join(line.strip() for line in lines)
            if len(paragraph.split()) >= 8:
                paragraphs.append(paragraph)
    return paragraphs


def order_task(paragraphs: list[str], rng: random.Random) -> list[tuple[str, str, int]]:
    """`(text, label, paragraph index)`: each sentence of 8 to 30 words, as written or with its words shuffled."""
    rows = []
    for i, paragraph in enumerate(paragraphs):
        for sentence in _SENTENCE_END.split(paragraph):
            words = sentence.split()
            if not 8 <= len(words) <= 30:
                continue
            if rng.random() < 0.5:
                rows.append((sentence, "as_written", i))
            else:
                rng.shuffle(words)
                rows.append((" ".join(words), "shuffled", i))
    return rows


def unigram_perplexity(dls) -> float:
    """Perplexity of predicting every validation target token by its add-one frequency in the training stream."""
    n_vocab = len(dls.vocab)
    counts = torch.ones(n_vocab)
    for doc in dls.train.dataset:
        counts += torch.bincount(doc[0].as_subclass(torch.Tensor), minlength=n_vocab)
    logp = (counts / counts.sum()).log()
    targets = torch.cat([y.as_subclass(torch.Tensor).reshape(-1) for _, y in dls.valid])
    return float((-logp[targets].mean()).exp())


def bag_of_words_accuracy(dls, epochs: int = 300) -> float:
    """Validation accuracy of a logistic regression on the texts' token counts (order ignored)."""
    n_vocab = len(dls.vocab[0])

    def counts(ds):
        x = torch.stack(
            [torch.bincount(t.as_subclass(torch.Tensor), minlength=n_vocab).float() for t, _ in ds]
        )
        return x, torch.tensor([int(y) for _, y in ds])

    (xt, yt), (xv, yv) = counts(dls.train.dataset), counts(dls.valid.dataset)
    model = torch.nn.Linear(n_vocab, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return float((model(xv).argmax(1) == yv).float().mean())


def main() -> None:
    start = time.time()
    rng = random.Random(0)
    torch.manual_seed(0)
    paragraphs = prose_paragraphs()
    valid = set(rng.sample(range(len(paragraphs)), len(paragraphs) // 10))
    lm_df = pd.DataFrame({"text": paragraphs, "is_valid": [i in valid for i in range(len(paragraphs))]})
    print(
        f"corpus: {len(paragraphs)} paragraphs, {sum(len(p.split()) for p in paragraphs)} words (pydoc_data.topics)"
    )

    with tempfile.TemporaryDirectory() as folder:
        dls_lm = TextDataLoaders.from_df(
            lm_df,
            path=folder,
            text_col="text",
            is_lm=True,
            valid_col="is_valid",
            bs=32,
            seq_len=48,
            min_freq=2,
        )
        unigram = unigram_perplexity(dls_lm)
        lm = language_model_learner(dls_lm, AWD_LSTM, config=CONFIG, drop_mult=0.3, pretrained=False)
        lm.fit_one_cycle(6, 1e-2)
        _, acc, ppl = lm.validate()
        print(
            f"\nlanguage model: validation perplexity {ppl:.1f} (accuracy {acc:.3f}); unigram baseline {unigram:.1f}"
        )
        print("sample:", lm.predict("The value of", n_words=20, temperature=0.7))
        lm.save_encoder("reference_lm")

        clas_df = pd.DataFrame(order_task(paragraphs, rng), columns=["text", "label", "paragraph"])
        clas_df["is_valid"] = clas_df["paragraph"].isin(valid)
        dls = TextDataLoaders.from_df(
            clas_df, path=folder, text_col="text", label_col="label", valid_col="is_valid", bs=32, min_freq=2
        )
        print(f"\nword-order task: {len(dls.train_ds)} training and {len(dls.valid_ds)} validation sentences")
        print(f"bag-of-words baseline: validation accuracy {bag_of_words_accuracy(dls):.3f}")

        scores = {}
        for name in ("from scratch", "ULMFiT (LM encoder)"):
            torch.manual_seed(0)
            clas = text_classifier_learner(
                dls, AWD_LSTM, config=CONFIG, drop_mult=0.5, pretrained=False, metrics=accuracy, path=folder
            )
            if name.startswith("ULMFiT"):
                clas.load_encoder("reference_lm")  # also freezes all but the head
            else:
                clas.freeze()
            # gradual unfreezing with discriminative learning rates
            clas.fit_one_cycle(1, 2e-2)
            clas.freeze_to(-2)
            clas.fit_one_cycle(1, slice(1e-2 / 2.6**4, 1e-2))
            clas.unfreeze()
            clas.fit_one_cycle(3, slice(2e-3 / 2.6**4, 2e-3))
            scores[name] = clas.validate()[1]
        print()
        for name, score in scores.items():
            print(f"classifier {name}: validation accuracy {score:.3f}")
    print(f"total time {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
