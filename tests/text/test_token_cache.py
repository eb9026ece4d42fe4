"""The token cache in data folders holds only data: its key is checked first, and a poisoned,
corrupt, truncated or stale file is ignored and rewritten, never run."""

import json
import pickle

import pytest

from layered.text import _parallel
from layered.text._parallel import cached
from layered.text.tokenize import tokenize_texts

TOKENS = [
    ["xxbos", "hello", "wörld", "😀", ""],
    [],
    ["line\nbreak", "nul\x00byte", '"quoted"', "hello", "\\"],
    ["hello"] * 3,
]


class Compute:
    """A `compute` for `cached` that counts its calls."""

    def __init__(self, tokens=TOKENS):
        self.tokens, self.calls = tokens, 0

    def __call__(self):
        self.calls += 1
        return [list(t) for t in self.tokens]


class Payload:
    """Unpickling this writes `marker`: proof that a file's code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def _payload_bytes(marker) -> bytes:
    return pickle.dumps({"key": "k", "tokens": Payload(marker)}, protocol=pickle.HIGHEST_PROTOCOL)


def test_the_payload_runs_when_unpickled(tmp_path):
    """The attack below is live: `pickle.load` of it writes the marker."""
    pickle.loads(_payload_bytes(tmp_path / "marker"))
    assert (tmp_path / "marker").read_text() == "ran"


def test_tokens_round_trip_and_the_cache_is_reused(tmp_path):
    compute = Compute()
    assert cached(tmp_path, "src", "k", compute) == TOKENS
    (file,) = tmp_path.iterdir()
    assert file.name.startswith("tokens-") and file.suffix == ".ltok"
    header = json.loads(file.read_bytes().split(b"\n", 1)[0])
    assert (header["format"], header["key"]) == ("layered-text-tokens-2", "k")
    assert (header["n_ids"], header["n_docs"]) == (13, 4)
    assert cached(tmp_path, "src", "k", compute) == TOKENS and compute.calls == 1
    assert cached(tmp_path, "other source", "k", compute) == TOKENS and compute.calls == 2


@pytest.mark.parametrize("tokens", [[], [[]], [[], []], [["a"]]])
def test_empty_token_lists_round_trip(tmp_path, tokens):
    compute = Compute(tokens)
    assert cached(tmp_path, "src", "k", compute) == tokens
    assert cached(tmp_path, "src", "k", compute) == tokens and compute.calls == 1


def test_a_cache_with_another_key_is_not_used(tmp_path):
    cached(tmp_path, "src", "old", Compute([["stale"]]))
    compute = Compute()
    assert cached(tmp_path, "src", "new", compute) == TOKENS and compute.calls == 1
    assert cached(tmp_path, "src", "new", compute) == TOKENS and compute.calls == 1  # rewritten
    assert cached(tmp_path, "src", "old", compute) == TOKENS and compute.calls == 2


def _cache_path(folder, source="src"):
    return _parallel._cache_file(folder, source)


@pytest.mark.parametrize("where", ["cache", "old pickle name"])
def test_a_pickle_payload_where_the_cache_lives_is_not_run(tmp_path, where):
    data = tmp_path / "data"
    data.mkdir()
    marker = tmp_path / "marker"
    poisoned = _cache_path(data)
    if where == "old pickle name":
        poisoned = poisoned.with_suffix(".pkl")
    poisoned.write_bytes(_payload_bytes(marker))
    compute = Compute()
    assert cached(data, "src", "k", compute) == TOKENS and compute.calls == 1
    assert not marker.exists()
    assert cached(data, "src", "k", compute) == TOKENS and compute.calls == 1  # a real cache now
    assert not marker.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    if where == "old pickle name":
        assert poisoned.read_bytes() == _payload_bytes(marker)  # left as it was, never read


def test_a_pickle_payload_behind_a_valid_header_with_the_right_key_is_not_run(tmp_path):
    marker = tmp_path / "marker"
    payload = _payload_bytes(marker)
    header = {
        "format": "layered-text-tokens-2",
        "key": "k",
        "vocab_bytes": len(payload),
        "n_ids": 0,
        "n_docs": 0,
    }
    _cache_path(tmp_path).write_bytes(json.dumps(header).encode() + b"\n" + payload)
    compute = Compute()
    assert cached(tmp_path, "src", "k", compute) == TOKENS and compute.calls == 1
    assert not marker.exists()


def test_the_poisoned_cache_of_a_data_folder_is_replaced_not_run(tmp_path):
    """End to end: the file `tokenize_texts` wrote is swapped for a payload, as in a downloaded dataset."""
    texts = ["a b c", "b c d", "hello there"]
    data, marker = tmp_path / "data", tmp_path / "marker"
    first = tokenize_texts(texts, n_workers=1, cache_dir=data, progress=False)
    (file,) = data.iterdir()
    file.write_bytes(_payload_bytes(marker))
    file.with_suffix(".pkl").write_bytes(_payload_bytes(marker))
    assert tokenize_texts(texts, n_workers=1, cache_dir=data, progress=False) == first
    assert not marker.exists()
    assert file.read_bytes().startswith(b'{"format": "layered-text-tokens-2"')


def _valid(tmp_path) -> bytes:
    cached(tmp_path, "src", "k", Compute())
    return _cache_path(tmp_path).read_bytes()


def _rebuilds(tmp_path, broken: bytes) -> None:
    """With `broken` as the cache file, `cached` recomputes, then reuses the file it rewrote."""
    _cache_path(tmp_path).write_bytes(broken)
    compute = Compute()
    assert cached(tmp_path, "src", "k", compute) == TOKENS and compute.calls == 1
    assert cached(tmp_path, "src", "k", compute) == TOKENS and compute.calls == 1


def test_truncated_caches_are_ignored_and_rebuilt(tmp_path):
    good = _valid(tmp_path)
    header_end = good.index(b"\n") + 1
    for n in [0, 1, header_end - 1, header_end, header_end + 5, len(good) - 1]:
        _rebuilds(tmp_path, good[:n])
    _rebuilds(tmp_path, good + b"\x00")


def _with_header(good: bytes, **changes) -> bytes:
    line, body = good.split(b"\n", 1)
    header = {**json.loads(line), **changes}
    return json.dumps(header).encode() + b"\n" + body


def test_corrupt_caches_are_ignored_and_rebuilt(tmp_path):
    good = _valid(tmp_path)
    header = json.loads(good.split(b"\n", 1)[0])
    body_at = good.index(b"\n") + 1
    ids_at = body_at + header["vocab_bytes"]
    lengths_at = ids_at + 4 * header["n_ids"]
    cases = [
        b"\xff" * len(good),
        b"[1, 2]\n" + good[body_at:],
        _with_header(good, format="layered-text-tokens-1"),
        _with_header(good, n_ids=-1),
        _with_header(good, n_docs=True),
        _with_header(good, vocab_bytes="12"),
        good[:ids_at] + (2**32 - 1).to_bytes(4, "little") + good[ids_at + 4 :],  # index past the vocabulary
        good[:lengths_at]
        + (2**64 - 1).to_bytes(8, "little")
        + good[lengths_at + 8 :],  # lengths do not add up
        good[:body_at] + b"{" + good[body_at + 1 : ids_at] + good[ids_at:],  # vocabulary not JSON
        good[:body_at] + b"\xff" + good[body_at + 1 :],  # vocabulary not UTF-8
    ]
    vocab = good[body_at:ids_at]
    as_numbers = json.dumps(list(range(len(json.loads(vocab))))).encode()
    cases.append(_with_header(good[:body_at] + as_numbers + good[ids_at:], vocab_bytes=len(as_numbers)))
    for broken in cases:
        assert broken != good
        _rebuilds(tmp_path, broken)
    assert _cache_path(tmp_path).read_bytes() == good


def test_tokens_that_are_not_strings_are_returned_uncached(tmp_path):
    compute = Compute([[1, 2], ["a"]])
    with pytest.warns(UserWarning, match="not lists of strings"):
        assert cached(tmp_path, "src", "k", compute) == [[1, 2], ["a"]]
    assert list(tmp_path.iterdir()) == []


def test_no_cache_folder_computes_every_time():
    compute = Compute()
    assert cached(None, "src", "k", compute) == TOKENS and cached(None, "src", "k", compute) == TOKENS
    assert compute.calls == 2
