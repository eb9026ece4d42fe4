import pickle

import pytest

from layered.text.errors import TextError
from layered.text.rules import SPECIAL_TOKENS
from layered.text.tokenizers import SentencePieceTokenizer, SpacyTokenizer

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A lazy dog sleeps in the sun all day long.",
    "Quick thinking saves the day for the brown fox.",
    "The sun rises over the hills and the dog wakes up.",
] * 5


def test_spacy_tokenizer_keeps_special_tokens_whole():
    tok = SpacyTokenizer()
    assert tok(["xxbos xxmaj don't stop", "a-b"]) == [
        ["xxbos", "xxmaj", "do", "n't", "stop"],
        ["a", "-", "b"],
    ]
    copy = pickle.loads(pickle.dumps(tok))  # pickles without spaCy's objects, rebuilds them
    assert copy._tokenizer is None and copy(["xxwrep"]) == [["xxwrep"]]


class AllSpecialCases(SpacyTokenizer):
    """`SpacyTokenizer` as it was: every special token given a special case."""

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            import spacy
            from spacy.symbols import ORTH

            self._tokenizer = spacy.blank(self.lang).tokenizer
            for t in self.special_toks:
                self._tokenizer.add_special_case(t, [{ORTH: t}])
        return self._tokenizer


def test_special_tokens_split_alike_without_special_cases():
    specials = ["xxbos", "xxmaj", "xxup", "<br>", "cannot", "Xx"]
    around = [
        "{}",
        "({}",
        "{})",
        "(({}))",
        "{}'s",
        "{}.",
        "'{}'",
        "{}-foo",
        "foo-{}",
        "foo{}",
        "1{}",
        "{}1",
        "e.g.{}",
        "{}e.g.",
        "don't{}",
        "{}:)",
        ":){}",
        "$${}",
        "US${}",
        "{}%",
        "#{}",
        "{}/{}",
        '"{}"',
    ]
    texts = [" ".join(a.format(s, s) for a in around) for s in specials]
    texts += ["Xx xxmaj (xxmaj) don't <br> cannot xxup... xxbos!"]
    lean, full = SpacyTokenizer(special_toks=specials), AllSpecialCases(special_toks=specials)
    assert lean(texts) == full(texts)
    assert len(lean.tokenizer.rules) == len(full.tokenizer.rules) - 3  # xxbos, xxmaj, xxup need none
    assert lean(["(xxmaj) <br> Xx cannot"]) == [["(", "xxmaj", ")", "<br>", "Xx", "cannot"]]


class Unlearned(SpacyTokenizer):
    """`SpacyTokenizer` without `_learn`: spaCy caches word splits only as it meets them in texts."""

    def _learn(self, tokenizer, texts):
        pass


def test_learned_word_splits_give_the_same_tokens():
    texts = [
        "Don't stop: e.g. the (cannot) case's 'quoted' words, again and again... don't STOP!",
        "  two  spaces\tand\ttabs\n\nnew lines,  'again'  (again)  e.g.  ",
        "naïve café’s — “quotes” 🙂🙂 U.S.A. $5.00 10km C++ <br /> http://x.org/a?b=c x@y.com",
        "",
        "xxbos xxmaj (xxmaj) xxup's don't xxrep 4 !",
    ] * 3
    lean, plain = SpacyTokenizer(), Unlearned()
    assert lean(texts) == plain(texts) == plain(texts)
    assert {"Don't", "(cannot)", "case's", "café’s", "10km"} <= lean._learned
    capped = SpacyTokenizer(special_toks=(*SPECIAL_TOKENS, "xxcapped"))  # a spaCy tokenizer of its own
    capped.tokenizer.max_cache_size = 5
    assert capped(texts) == lean(texts) and len(capped._learned) == 5  # learning stops at spaCy's cache size
    assert pickle.loads(pickle.dumps(lean))._learned == set()  # until used: then it shares the process's


def test_tokenizers_of_the_same_settings_share_spacy_and_what_it_learnt():
    first, second = SpacyTokenizer(), SpacyTokenizer()
    assert first(["Sharing spaCy's tokenizer, e.g. here."]) == second(
        ["Sharing spaCy's tokenizer, e.g. here."]
    )
    assert second.tokenizer is first.tokenizer and second._learned is first._learned
    assert "spaCy's" in second._learned  # learnt by the first
    copy = pickle.loads(pickle.dumps(first))
    assert copy.tokenizer is first.tokenizer  # unpickled in this process: shared again
    other = SpacyTokenizer(special_toks=("xxother",))
    assert other.tokenizer is not first.tokenizer and other(["xxother it's"]) == [["xxother", "it", "'s"]]
    assert SpacyTokenizer("fr").tokenizer is not first.tokenizer


def test_spacy_tokenizer_names_an_unknown_language():
    with pytest.raises(TextError, match="no language 'qq'"):
        SpacyTokenizer("qq")(["x"])


def test_sentencepiece_trains_caches_and_decodes(tmp_path):
    sp = SentencePieceTokenizer(vocab_sz=60, cache_dir=tmp_path)
    with pytest.raises(TextError, match="setup"):
        sp(["no model yet"])
    path = sp.setup(CORPUS)
    assert path.parent == tmp_path and path.suffix == ".model"
    pieces = sp(["the lazy fox"])[0]
    assert len(pieces) >= 3 and all(isinstance(p, str) for p in pieces)
    assert sp.detokenize(pieces) == "the lazy fox"
    assert "xxbos" in sp(["xxbos xxmaj the"])[0]  # special tokens stay whole
    mtime = path.stat().st_mtime_ns
    again = SentencePieceTokenizer(vocab_sz=60, cache_dir=tmp_path)
    assert again.setup(CORPUS) == path and path.stat().st_mtime_ns == mtime  # reused, not retrained
    other = SentencePieceTokenizer(vocab_sz=60, model_type="bpe", cache_dir=tmp_path)
    assert other.setup(CORPUS) != path  # other settings: another model
    restored = pickle.loads(pickle.dumps(sp))
    assert restored(["the lazy fox"])[0] == pieces
