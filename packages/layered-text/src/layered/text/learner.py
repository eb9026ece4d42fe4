"""Text learners: a language model that generates text, and a classifier fine-tuned from its encoder.

The ULMFiT recipe (Howard & Ruder, 2018) in a few lines:

```python
lm = language_model_learner(dls_lm, AWD_LSTM, pretrained=False)  # or pretrained weights
lm.fit_one_cycle(4, 2e-2)
lm.save_encoder("finetuned")
clas = text_classifier_learner(dls_clas, AWD_LSTM, pretrained=False, metrics=accuracy)
clas.load_encoder("finetuned")        # maps the LM's vocabulary onto the classifier's by token
clas.fit_one_cycle(1, 2e-2)           # then gradual unfreezing, see text_classifier_learner
```

Pretrained weights are two files: the language model's state dict (`Learner.save` output works)
and its vocabulary as a JSON list of tokens. They come from `pretrained_fnames` or the cache
folder `$LAYERED_HOME/models/<arch>-fwd/` (`-bwd` for a backwards model), holding
`weights.pth` and `vocab.json`; `LMLearner.save_pretrained` writes such a pair.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from layered.core.atomic import atomic_save, atomic_write
from layered.core.delegation import delegates
from layered.core.registry import register_serializable
from layered.data.config import layered_home
from layered.text.callbacks import ModelResetter, RNNCallback, RNNRegularizer
from layered.text.errors import TextError
from layered.text.models import SentenceEncoder, get_language_model, get_text_classifier, text_arch_meta
from layered.text.numericalize import Numericalize
from layered.text.rules import BOS, EOS, PAD, TK_MAJ, TK_REP, TK_UP, TK_WREP
from layered.text.tokenizer_transform import TextStr, Tokenizer, TokenList
from layered.train.distributed import barrier_distrib, rank_distrib, unwrap_model
from layered.train.learner import MODEL_FORMAT, Learner
from layered.train.metrics.classification import accuracy
from layered.train.metrics.text import Perplexity
from layered.train.saving.state_file import load_weights, read_state, write_state

ENCODER_FORMAT = "layered-encoder"  # the `format` of the files `save_encoder` writes

__all__ = [
    "LMLearner",
    "TextLearner",
    "decode_spec_tokens",
    "language_model_learner",
    "match_embeds",
    "pretrained_files",
    "text_classifier_learner",
]

# the entries of a model's state dict that have one row per vocabulary token
_VOCAB_KEYS = ("encoder.weight", "encoder_dp.emb.weight", "decoder.weight", "decoder.bias")


def _is_vocab_key(key: str) -> bool:
    return any(key == k or key.endswith("." + k) for k in _VOCAB_KEYS)


def match_embeds(
    old_wgts: dict[str, torch.Tensor], old_vocab: Sequence[str], new_vocab: Sequence[str]
) -> dict:
    """`old_wgts` with their per-token rows rearranged from `old_vocab` to `new_vocab`, matched by token.

    The embedding (and a language model's decoder weight and bias) get one row per token of
    `new_vocab`: the old row of the same token, or the mean of the old rows for a token the old
    vocabulary lacks. Other entries are returned unchanged.
    """
    old_idx = {t: i for i, t in reversed(list(enumerate(old_vocab)))}
    src = torch.tensor([old_idx.get(t, -1) for t in new_vocab], dtype=torch.long)
    found = src >= 0
    new = dict(old_wgts)
    for key, w in old_wgts.items():
        if not _is_vocab_key(key):
            continue
        if w.shape[0] != len(old_vocab):
            raise TextError(
                f"match_embeds: {key} has {w.shape[0]} rows but the old vocabulary has {len(old_vocab)} tokens"
            )
        mean = w.float().mean(0).to(w.dtype)
        rows = mean.expand(len(new_vocab), *w.shape[1:]).clone()
        rows[found.to(w.device)] = w[src[found].to(w.device)]
        new[key] = rows
    return new


def decode_spec_tokens(tokens: Sequence[str]) -> list[str]:
    """Undo the case and repetition markers: `xxmaj w` -> `W`, `xxup w` -> `W...`, `xxrep n c`, `xxwrep n w`."""
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        if t in (TK_MAJ, TK_UP) and i + 1 < n:
            w = tokens[i + 1]
            out.append(w.upper() if t == TK_UP else w[:1].upper() + w[1:])
            i += 2
        elif t in (TK_REP, TK_WREP) and i + 2 < n and tokens[i + 1].isdigit():
            count, w = int(tokens[i + 1]), tokens[i + 2]
            out.extend([w * count] if t == TK_REP else [w] * count)
            i += 3
        else:
            out.append(t)
            i += 1
    return out


def _vocabs(dls: Any) -> list:
    """The vocabularies of the data's elements (text tokens first), from `dls.vocab` or the pipelines."""
    vocab = getattr(dls, "vocab", None)
    if vocab is None:
        raise TextError(
            f"{type(dls).__name__} has no vocab: text learners need DataLoaders of numericalized texts "
            "(TextDataLoaders, or a DataBlock with a TextBlock)"
        )
    return [vocab] if vocab and isinstance(vocab[0], str) else list(vocab)


def _text_tfms(dls: Any) -> tuple[Tokenizer, Numericalize]:
    """The tokenizer and numericalizer of the data's text pipeline."""
    tls = getattr(getattr(getattr(dls, "valid", None), "dataset", None), "tls", None)
    fs = list(tls[0].tfms.fs) if tls else []
    tok = next((f for f in fs if isinstance(f, Tokenizer)), None)
    num = next((f for f in fs if isinstance(f, Numericalize)), None)
    if tok is None or num is None:
        raise TextError(
            "the data's text pipeline needs a Tokenizer and a Numericalize (e.g. from a TextBlock)"
        )
    return tok, num


def _data_backwards(dls: Any) -> bool:
    """Whether the data's language-model streams run backwards (an `LMDataLoader(backwards=True)`)."""
    return any(getattr(dl, "backwards", False) is True for dl in getattr(dls, "loaders", ()))


def _encoder(model: nn.Module) -> nn.Module:
    """The recurrent encoder of a language model or classifier (`model[0]`, unwrapped from a SentenceEncoder)."""
    enc = unwrap_model(model)[0]
    return enc.module if isinstance(enc, SentenceEncoder) else enc


def pretrained_files(
    arch: type, pretrained_fnames: Sequence[str | Path] | None = None, backwards: bool = False
) -> tuple[Path, Path]:
    """`(weights file, vocabulary file)` for `arch`, checked to exist: given, or from the cache folder."""
    if pretrained_fnames is not None:
        if len(pretrained_fnames) != 2:
            raise TextError(
                f"pretrained_fnames must be (weights file, vocabulary file), got {len(pretrained_fnames)} names"
            )
        files = (Path(pretrained_fnames[0]), Path(pretrained_fnames[1]))
    else:
        folder = layered_home() / "models" / f"{arch.__name__.lower()}-{'bwd' if backwards else 'fwd'}"
        files = (folder / "weights.pth", folder / "vocab.json")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise TextError(
            f"pretrained {arch.__name__} weights not found: {', '.join(missing)} missing. Put the language "
            f"model's weights (a state dict, or a file written by Learner.save) at {files[0]} and its vocabulary "
            f"(a JSON list of tokens) at {files[1]}, or pass pretrained_fnames=(weights, vocab), or "
            "pretrained=False to train from scratch"
        )
    return files


def _read_pretrained(files: tuple[Path, Path]) -> tuple[dict, list[str]]:
    if files[0].suffix == ".safetensors":  # written by Learner.save
        state, _ = read_state(files[0], MODEL_FORMAT)
    else:  # a plain torch state dict (as published language models are), read as tensors only
        try:
            state = torch.load(files[0], map_location="cpu", weights_only=True)
        except Exception as e:  # torch's restricted unpickler refuses anything but tensors and containers
            raise TextError(f"could not read pretrained weights {files[0]} as a state dict: {e}") from e
        state = state.get("model", state) if isinstance(state, dict) else state
    try:
        vocab = json.loads(files[1].read_text(encoding="utf8"))
    except json.JSONDecodeError as e:
        raise TextError(f"{files[1]} is not a JSON list of tokens: {e}") from e
    if not isinstance(state, dict) or not isinstance(vocab, list):
        raise TextError(f"{files[0]} must hold a state dict and {files[1]} a JSON list of tokens")
    return state, vocab


def _atomic_write_text(text: str, file: Path) -> None:
    with atomic_write(file, "w", encoding="utf8") as f:
        f.write(text)


@register_serializable(reference=True)  # exports name the class only
@delegates()
class TextLearner(Learner):
    """A Learner for recurrent text models: resets hidden states, adds AR/TAR, saves and loads encoders.

    `alpha` and `beta` weigh `RNNRegularizer`'s AR and TAR penalties; `moms` default to the
    ULMFiT paper's (0.8, 0.7, 0.8).
    """

    def __init__(
        self,
        dls,
        model: nn.Module,
        alpha: float = 2.0,
        beta: float = 1.0,
        moms: tuple = (0.8, 0.7, 0.8),
        **kwargs,
    ):
        super().__init__(dls, model, moms=moms, **kwargs)
        self.add_cbs([RNNCallback(), ModelResetter(), RNNRegularizer(alpha, beta)])

    @property
    def text_vocab(self) -> list[str]:
        """The data's token vocabulary."""
        return list(_vocabs(self.dls)[0])

    def _match_vocab(self, wgts: dict, vocab: Sequence[str], source: str) -> dict:
        """`wgts` mapped from `vocab` onto the data's vocabulary by token (the overlap goes to `logger`)."""
        new_vocab = self.text_vocab
        if list(vocab) == new_vocab:
            return wgts
        overlap = len(set(vocab) & set(new_vocab))
        self.logger(
            f"{source}: {overlap} of the data's {len(new_vocab)} tokens are in its vocabulary of "
            f"{len(vocab)}; the others start from the mean embedding"
        )
        return match_embeds(wgts, vocab, new_vocab)

    def save_encoder(self, name: str | Path) -> Path:
        """Save the encoder's weights and the vocabulary to `path/model_dir/name.safetensors`, atomically; returns the file."""
        file = self._model_file(name)
        if rank_distrib() == 0:  # under DDP the first process writes, the others wait for it
            write_state(
                file, ENCODER_FORMAT, _encoder(self.model).state_dict(), {"vocab": list(self.text_vocab)}
            )
        barrier_distrib()
        return file

    def load_encoder(self, name: str | Path, device: Any = None) -> TextLearner:
        """Load an encoder saved by `save_encoder`, its embedding mapped onto this vocabulary by token; then freeze.

        Tokens of this vocabulary the saved one lacks start from the mean embedding; the overlap
        is reported through `logger`. The model is frozen to its last parameter group (the head),
        ready for gradual unfreezing.
        """
        file = self._model_file(name)
        weights, extra = read_state(file, ENCODER_FORMAT)
        vocab = extra.get("vocab") if isinstance(extra, dict) else None
        if not (isinstance(vocab, list) and all(isinstance(t, str) for t in vocab)):
            raise TextError(f"load_encoder: {file} holds no vocabulary (a list of tokens)")
        load_weights(
            _encoder(self.model), self._match_vocab(weights, vocab, f"load_encoder({file.name})"), file
        )
        if device is not None:
            self.model.to(device)
        self.freeze()
        return self

    def load_pretrained(self, weights_file: str | Path, vocab_file: str | Path) -> TextLearner:
        """Load pretrained language-model weights (the whole model, or its encoder for a classifier); then freeze."""
        state, vocab = _read_pretrained((Path(weights_file), Path(vocab_file)))
        source = f"pretrained {Path(weights_file).name}"
        if isinstance(unwrap_model(self.model)[0], SentenceEncoder):
            enc = {k[2:]: v for k, v in state.items() if k.startswith("0.")}
            _encoder(self.model).load_state_dict(self._match_vocab(enc, vocab, source))
        else:
            unwrap_model(self.model).load_state_dict(self._match_vocab(state, vocab, source))
        self.freeze()
        return self


@register_serializable(reference=True)  # exports name the class only
class LMLearner(TextLearner):
    """A TextLearner for language models: `predict` continues a text, `save_pretrained` exports weights and vocabulary."""

    @property
    def backwards(self) -> bool:
        """Whether the model reads texts from their end: its data's streams are reversed (`backwards=True`)."""
        return _data_backwards(self.dls)

    def predict(
        self,
        text: str,
        n_words: int = 1,
        no_unk: bool = True,
        temperature: float = 1.0,
        min_p: float | None = None,
        decoder: Callable[[list[str]], list[str]] = decode_spec_tokens,
    ) -> TextStr:
        """`text` followed by `n_words` sampled tokens, decoded (markers undone by `decoder`).

        A backwards model (`backwards`, from its data) reads `text` from its end and writes the
        `n_words` tokens that come before it: the result still reads forwards, ending with `text`.
        Each token is drawn from the model's next-token probabilities raised to `1/temperature`
        (lower: safer choices), never `xxunk` with `no_unk`, and only among tokens of probability
        at least `min_p` when any reach it. The hidden state carries the text read so far, so
        each new token costs one step of the model.
        """
        if temperature <= 0:
            raise TextError(f"predict: temperature must be positive, got {temperature}")
        tok, num = _text_tfms(self.dls)
        ids = num(tok(text)).as_subclass(torch.Tensor)
        if len(ids) > 1 and num.vocab[int(ids[-1])] == EOS:
            ids = ids[:-1]
        if self.backwards:
            # what comes before the text is wanted, not the text before it: drop its start marker
            if len(ids) > 1 and num.vocab[int(ids[0])] == BOS:
                ids = ids[1:]
            ids = ids.flip(0)
        model = self.model.to(self.device)
        model.eval()
        model.reset()
        generated: list[int] = []
        inp = ids[None].to(self.device)
        with torch.no_grad():
            for _ in range(n_words):
                out = model(inp)
                logits = (out[0] if isinstance(out, tuple) else out)[0, -1].float()
                allowed = torch.ones_like(logits, dtype=torch.bool)
                if no_unk:
                    allowed[num.unk_idx] = False
                if min_p is not None:
                    likely = allowed & (torch.softmax(logits, -1) >= min_p)
                    allowed = likely if bool(likely.any()) else allowed
                # the temperature divides the logits: probabilities raised to 1/temperature, without underflow
                probs = torch.softmax((logits / temperature).masked_fill(~allowed, float("-inf")), -1)
                idx = torch.multinomial(probs, 1)
                generated.append(int(idx))
                inp = idx[None]
        model.reset()
        read = [*ids.tolist(), *generated]
        tokens = [num.vocab[i] for i in (read[::-1] if self.backwards else read)]
        tokens = [t for t in tokens if t not in (BOS, PAD)]
        return tok.decode(TokenList(decoder(tokens)))

    def save_pretrained(self, folder: str | Path) -> tuple[Path, Path]:
        """Write `weights.pth` (the model's state dict) and `vocab.json` to `folder`, atomically; returns both files."""
        folder = Path(folder)
        files = (folder / "weights.pth", folder / "vocab.json")
        if rank_distrib() == 0:
            atomic_save(unwrap_model(self.model).state_dict(), files[0])
            _atomic_write_text(json.dumps(self.text_vocab), files[1])
        barrier_distrib()
        return files


@delegates(LMLearner, but="splitter")
def language_model_learner(
    dls,
    arch: type,
    config: dict | None = None,
    drop_mult: float = 1.0,
    backwards: bool | None = None,
    pretrained: bool = True,
    pretrained_fnames: Sequence[str | Path] | None = None,
    **kwargs,
) -> LMLearner:
    """An `LMLearner` with `get_language_model(arch, ...)` sized to the data's vocabulary.

    Metrics default to accuracy and perplexity, the loss to the data's (cross entropy on the next token).
    `backwards` (default: the data's) says the model reads texts from their end; it must agree
    with the data (`TextDataLoaders.from_df(..., is_lm=True, backwards=True)`). With `pretrained`,
    weights come from `pretrained_fnames` or the cache (see `pretrained_files`; a backwards model's
    from `<arch>-bwd`), are mapped onto the data's vocabulary by token, and the model is frozen
    but for its embedding and decoder.
    """
    data_backwards = _data_backwards(dls)
    if backwards is not None and backwards != data_backwards:
        raise TextError(
            f"language_model_learner: backwards={backwards}, but the data's streams run "
            f"{'backwards' if data_backwards else 'forwards'}; make the data with backwards={backwards} "
            "(TextDataLoaders / TextBlock), or leave backwards out to follow the data"
        )
    vocab = _vocabs(dls)[0]
    model = get_language_model(arch, len(vocab), config=config, drop_mult=drop_mult)
    kwargs.setdefault("metrics", [accuracy, Perplexity()])
    learn = LMLearner(dls, model, splitter=text_arch_meta(arch)["split_lm"], **kwargs)
    if pretrained:
        learn.load_pretrained(*pretrained_files(arch, pretrained_fnames, data_backwards))
    return learn


@delegates(TextLearner, but="splitter")
def text_classifier_learner(
    dls,
    arch: type,
    seq_len: int = 72,
    config: dict | None = None,
    backwards: bool = False,
    pretrained: bool = True,
    drop_mult: float = 0.5,
    n_out: int | None = None,
    lin_ftrs: Sequence[int] | None = None,
    ps: Sequence[float] | None = None,
    max_len: int | None = 72 * 20,
    y_range: tuple | None = None,
    pretrained_fnames: Sequence[str | Path] | None = None,
    **kwargs,
) -> TextLearner:
    """A `TextLearner` with `get_text_classifier(arch, ...)`: `n_out` outputs (default: one per label).

    Texts are read `seq_len` tokens at a time, keeping the outputs of the last `max_len`. With
    `pretrained`, the encoder starts from pretrained language-model weights (see
    `language_model_learner`); usually one loads a fine-tuned one instead with `load_encoder`.
    Loading weights (`pretrained=True`, or `load_encoder`) freezes the model to the head; with
    `pretrained=False` and no encoder loaded, every layer trains from the start. After loading,
    train with gradual unfreezing, each stage with discriminative rates `slice(lr / 2.6**4, lr)`:

    ```python
    learn.fit_one_cycle(1, 2e-2)                               # the head only
    learn.freeze_to(-2); learn.fit_one_cycle(1, slice(1e-2 / 2.6**4, 1e-2))
    learn.freeze_to(-3); learn.fit_one_cycle(1, slice(5e-3 / 2.6**4, 5e-3))
    learn.unfreeze();    learn.fit_one_cycle(2, slice(1e-3 / 2.6**4, 1e-3))
    ```
    """
    vocabs = _vocabs(dls)
    if n_out is None:
        if len(vocabs) < 2 or vocabs[1] is None:
            raise TextError(
                "text_classifier_learner: cannot tell the number of classes from the data; pass n_out"
            )
        n_out = len(vocabs[1])
    pad_idx = _text_tfms(dls)[1].pad_idx
    model = get_text_classifier(
        arch,
        len(vocabs[0]),
        n_out,
        seq_len=seq_len,
        config=config,
        drop_mult=drop_mult,
        lin_ftrs=lin_ftrs,
        ps=ps,
        pad_idx=1 if pad_idx is None else pad_idx,
        max_len=max_len,
        y_range=y_range,
    )
    learn = TextLearner(dls, model, splitter=text_arch_meta(arch)["split_clas"], **kwargs)
    if pretrained:
        learn.load_pretrained(*pretrained_files(arch, pretrained_fnames, backwards))
    return learn
