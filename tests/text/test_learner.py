"""Text learners end to end on tiny generated texts: LM training and generation, encoder transfer, classifier."""

import json
import random

import pandas as pd
import pytest
import torch

from layered.core.errors import LayeredError
from layered.core.seed import set_seed
from layered.text.awd_lstm import AWD_LSTM
from layered.text.dataloaders import TextDataLoaders
from layered.text.errors import TextError
from layered.text.interpret import TextClassificationInterpretation
from layered.text.learner import (
    LMLearner,
    TextLearner,
    decode_spec_tokens,
    language_model_learner,
    match_embeds,
    text_classifier_learner,
)
from layered.text.tokenizer_transform import Tokenizer
from layered.train.learner import load_learner
from layered.train.metrics.classification import accuracy

CFG = {"emb_sz": 16, "n_hid": 32, "n_layers": 2}
SUBJECTS, VERBS, OBJECTS = (
    ["the cat", "a dog", "my bird", "the fox"],
    ["sees", "likes", "chases"],
    ["a ball", "the sun"],
)


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def sentences(n, seed=0):
    rng = random.Random(seed)
    return [
        " ".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ." for _ in range(4))
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def lm_dls():
    # no xxbos between texts: generation then never stops on one, and n_words tokens show
    tok = Tokenizer.from_df(["text"], post_rules=[], n_workers=1)
    df = pd.DataFrame({"text": sentences(60)})
    return TextDataLoaders.from_df(
        df, text_col="text", is_lm=True, tok_tfm=tok, bs=8, seq_len=12, min_freq=1, n_workers=1, seed=0
    )


def order_task(n=320, seed=0):
    """Label: does "cat" come before "dog"? Both always occur, so a bag of words cannot tell."""
    rng = random.Random(seed)
    fill = ["red", "green", "blue", "big", "small", "old", "new"]
    rows = []
    for k in range(n):
        words = [rng.choice(fill) for _ in range(rng.randint(3, 6))]
        i, j = sorted(rng.sample(range(len(words) + 2), 2))
        first = rng.random() < 0.5
        words.insert(i, "cat" if first else "dog")
        words.insert(j, "dog" if first else "cat")
        rows.append((" ".join(words), "cat_first" if first else "dog_first", k >= n * 4 // 5))
    return pd.DataFrame(rows, columns=["text", "label", "is_valid"])


def lm_learner(dls, tmp_path, **kwargs):
    set_seed(0)  # the loaders shuffle with Python's random, the model starts from torch's
    return language_model_learner(dls, AWD_LSTM, config=CFG, pretrained=False, path=tmp_path, **kwargs)


def test_language_model_trains(lm_dls, tmp_path):
    learn = lm_learner(lm_dls, tmp_path, drop_mult=0.3)
    assert isinstance(learn, LMLearner) and isinstance(learn, TextLearner)
    assert [m.name for m in learn.metrics] == ["accuracy", "perplexity"]
    before = learn.validate()
    with learn.no_logging():
        learn.fit_one_cycle(10, 3e-2)
    after = learn.validate()
    assert after[0] < before[0] - 0.5
    assert after[2] == pytest.approx(torch.tensor(after[0]).exp().item(), rel=1e-4)  # perplexity = exp(loss)
    # the grammar leaves about 0.8 bits per token: a perplexity near 1.7, against 24 at the start
    assert after[2] < 3.0

    set_seed(0)
    text = learn.predict("The cat", n_words=6, decoder=lambda toks: toks)
    assert text.split(" ")[:2] == ["xxmaj", "the"]
    assert len(text.split(" ")) == 3 + 6 and "xxunk" not in text
    assert learn.predict("The cat", n_words=2).startswith("The cat ")
    # after a sentence, a subject is followed by a verb (each of the three about equally likely)
    prompt = "a dog sees the sun . the cat"
    nexts = [learn.predict(prompt, n_words=1, temperature=0.1, decoder=lambda t: t) for _ in range(5)]
    assert all(t.split(" ")[-1] in VERBS for t in nexts), nexts
    with pytest.raises(TextError, match="temperature"):
        learn.predict("the cat", temperature=0)


@pytest.fixture(scope="module")
def backwards_dls():
    tok = Tokenizer.from_df(["text"], post_rules=[], n_workers=1)
    df = pd.DataFrame({"text": sentences(60)})
    return TextDataLoaders.from_df(
        df,
        text_col="text",
        is_lm=True,
        backwards=True,
        tok_tfm=tok,
        bs=8,
        seq_len=12,
        min_freq=1,
        n_workers=1,
        seed=0,
    )


def test_backwards_language_model_writes_what_comes_before_and_reads_forwards(
    backwards_dls, lm_dls, tmp_path
):
    x, y = backwards_dls.valid.one_batch()
    shown = backwards_dls.valid.decode_batch((x, y), max_n=1)[0][0]
    words = str(shown).split(" ")
    # the batch holds the stream reversed ("sun the chases cat the"), shown it reads forwards
    assert any(
        words[i : i + 2] in ([s.split()[1], v] for s in SUBJECTS for v in VERBS) for i in range(len(words))
    )
    learn = lm_learner(backwards_dls, tmp_path, drop_mult=0.3)
    assert learn.backwards and not lm_learner(lm_dls, tmp_path).backwards
    with learn.no_logging():
        learn.fit_one_cycle(10, 3e-2)
    assert learn.validate()[2] < 3.0  # the grammar read backwards is as predictable
    set_seed(0)
    # before a verb comes a noun: the text grows at its start and still reads forwards
    outs = [
        learn.predict("sees the sun .", n_words=1, temperature=0.1, decoder=lambda t: t) for _ in range(5)
    ]
    nouns = {s.split()[1] for s in SUBJECTS}
    assert all(o.endswith("sees the sun .") and o.split(" ")[0] in nouns for o in outs), outs
    with pytest.raises(TextError, match="backwards=False, but the data's streams run backwards"):
        language_model_learner(backwards_dls, AWD_LSTM, config=CFG, pretrained=False, backwards=False)
    with pytest.raises(
        TextError, match="backwards=True reverses a language model's stream and needs is_lm=True"
    ):
        TextDataLoaders.from_df(pd.DataFrame({"text": sentences(8), "label": ["a", "b"] * 4}), backwards=True)


def test_decode_spec_tokens():
    toks = ["xxmaj", "hello", "xxup", "big", "s", "xxrep", "4", "o", "xxwrep", "3", "no", "xxmaj"]
    assert decode_spec_tokens(toks) == ["Hello", "BIG", "s", "oooo", "no", "no", "no", "xxmaj"]


def test_match_embeds_maps_by_token():
    old = {
        "0.encoder.weight": torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]),
        "1.decoder.bias": torch.tensor([1.0, 2.0, 6.0]),
    }
    old["0.rnns.0.module.weight_hh_l0"] = torch.ones(4, 1)
    new = match_embeds(old, ["a", "b", "c"], ["c", "z", "a"])
    assert torch.equal(new["0.encoder.weight"], torch.tensor([[3.0, 3.0], [2.0, 2.0], [1.0, 1.0]]))
    assert torch.equal(new["1.decoder.bias"], torch.tensor([6.0, 3.0, 1.0]))
    assert new["0.rnns.0.module.weight_hh_l0"] is old["0.rnns.0.module.weight_hh_l0"]
    with pytest.raises(TextError, match="has 3 rows"):
        match_embeds(old, ["a", "b"], ["a"])


def test_save_and_load_encoder_map_vocab_by_token(lm_dls, tmp_path):
    lm = lm_learner(lm_dls, tmp_path)
    file = lm.save_encoder("enc")
    assert file == tmp_path / "models" / "enc.safetensors"
    assert [p.name for p in file.parent.iterdir()] == ["enc.safetensors"]
    df = pd.DataFrame(
        {"text": [*sentences(30, seed=1), "an owl hoots", "an owl sleeps"] * 2, "label": ["x", "y"] * 32}
    )
    dls = TextDataLoaders.from_df(
        df,
        text_col="text",
        label_col="label",
        bs=8,
        min_freq=1,
        n_workers=0,
        seed=0,  # 0: in this process
    )
    clas = text_classifier_learner(dls, AWD_LSTM, config=CFG, pretrained=False, path=tmp_path)
    # as the docstring says: without weights loaded nothing is frozen; loading the encoder freezes
    assert "pretrained=False` and no encoder loaded, every layer trains" in text_classifier_learner.__doc__
    assert all(p.requires_grad for p in clas.model.parameters())
    messages = []
    clas.logger = messages.append
    clas.load_encoder("enc")
    old_vocab, new_vocab = lm_dls.vocab, dls.vocab[0]
    assert new_vocab != old_vocab
    shared = set(old_vocab) & set(new_vocab)
    assert messages and f"{len(shared)} of the data's {len(new_vocab)} tokens" in messages[0]
    old_emb, new_emb = lm.model[0].encoder.weight, clas.model[0].module.encoder.weight
    for i, tok in enumerate(new_vocab):
        expected = old_emb[old_vocab.index(tok)] if tok in shared else old_emb.mean(0)
        assert torch.allclose(new_emb[i], expected), tok
    assert "owl" in new_vocab and "owl" not in old_vocab
    assert not all(p.requires_grad for p in clas.model.parameters())
    rnn = {k: v for k, v in clas.model[0].module.state_dict().items() if "rnns" in k}
    assert all(torch.equal(v, lm.model[0].state_dict()[k]) for k, v in rnn.items())
    # frozen to the head: only the last group (and norm layers) train
    assert not any(p.requires_grad for p in clas.model[0].module.rnns.parameters())
    with pytest.raises(LayeredError, match=r"is not a layered-encoder file .*it is a 'layered-model' file"):
        lm.save("full")
        clas.load_encoder("full")


def test_pretrained_missing_and_round_trip(lm_dls, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERED_HOME", str(tmp_path / "home"))
    with pytest.raises(TextError, match=r"awd_lstm-fwd[/\\]weights\.pth.*pretrained=False"):
        language_model_learner(lm_dls, AWD_LSTM, config=CFG)
    with pytest.raises(TextError, match="missing"):
        language_model_learner(
            lm_dls, AWD_LSTM, config=CFG, pretrained_fnames=(tmp_path / "w.pth", tmp_path / "v.json")
        )
    source = lm_learner(lm_dls, tmp_path)
    weights, vocab = source.save_pretrained(tmp_path / "home" / "models" / "awd_lstm-fwd")
    assert weights.name == "weights.pth" and json.loads(vocab.read_text()) == list(lm_dls.vocab)
    torch.manual_seed(1)
    learn = language_model_learner(lm_dls, AWD_LSTM, config=CFG, path=tmp_path)  # found in the cache
    for k, v in source.model.state_dict().items():
        assert torch.equal(learn.model.state_dict()[k], v), k
    trainable = [g for g in learn.opt.param_groups if any(p.requires_grad for p in g["params"])]
    assert len(trainable) == 1  # frozen: the embedding and decoder group only


def test_classifier_learns_word_order(tmp_path):
    set_seed(0)
    df = order_task()
    dls = TextDataLoaders.from_df(
        df,
        text_col="text",
        label_col="label",
        valid_col="is_valid",
        bs=32,
        seq_len=8,
        min_freq=1,
        n_workers=1,
    )
    learn = text_classifier_learner(
        dls,
        AWD_LSTM,
        seq_len=8,
        pretrained=False,
        drop_mult=0.0,
        config={**CFG, "n_layers": 1},
        metrics=accuracy,
        path=tmp_path,
    )
    with learn.no_logging():
        learn.fit_one_cycle(8, 1e-2)
    assert learn.validate()[1] > 0.85
    label, idx, probs = learn.predict("red cat big dog new")
    assert (
        label == "cat_first" and int(idx) == 0 and probs.shape == (2,) and probs.sum() == pytest.approx(1.0)
    )
    # utf8 bytes predict as their text; broken text is refused, naming what is wrong, not a raw codec error
    label_b, _, probs_b = learn.predict(b"red cat big dog new")
    assert label_b == label and torch.allclose(probs_b, probs)
    with pytest.raises(TextError, match=r"lone surrogate '\\ud800' at character 4"):
        learn.predict("red \ud800 big dog")
    with pytest.raises(TextError, match="bytes are not utf8 text"):
        learn.predict(b"red \xff cat")
    # export and reload (weights-only, no code from the file) give the same prediction
    reloaded = load_learner(learn.export())
    label2, idx2, probs2 = reloaded.predict("red cat big dog new")
    assert label2 == label and int(idx2) == int(idx) and torch.allclose(probs2, probs, atol=1e-6)
    interp = TextClassificationInterpretation.from_learner(learn)
    top = interp.show_top_losses(3)
    assert list(top.columns) == ["text", "target", "prediction", "probability", "loss"]
    assert len(top) == 3 and top["loss"].is_monotonic_decreasing
    losses, idxs = interp.top_losses()
    item_text = str(dls.valid_ds.decode(dls.valid_ds[int(idxs[0])])[0])
    assert top["text"][0] == item_text and top["loss"][0] == pytest.approx(float(losses[0]))
    assert set(top["target"]) <= {"cat_first", "dog_first"}
    assert interp.confusion_matrix().sum() == len(dls.valid_ds)  # the generic classification tools work too


def test_classifier_needs_labels(lm_dls):
    with pytest.raises(TextError, match="pass n_out"):
        text_classifier_learner(lm_dls, AWD_LSTM, config=CFG, pretrained=False)


def test_text_learner_factories_show_the_learners_parameters():
    import inspect

    from layered.text.learner import TextLearner, language_model_learner, text_classifier_learner

    for f in (language_model_learner, text_classifier_learner, TextLearner):
        params = inspect.signature(f).parameters
        assert {"loss_func", "opt_func", "lr", "cbs", "metrics", "wd", "alpha", "moms"} <= set(params), f
    assert inspect.signature(TextLearner).parameters["moms"].default == (0.8, 0.7, 0.8)
    assert "splitter" not in inspect.signature(language_model_learner).parameters  # it sets its own
