"""The checksum registry: what a download must match, and a file's sha256."""

import hashlib

import pytest

from layered.data.checksums import CHECKSUMS, expected_checksum, file_sha256, register_checksum
from layered.data.errors import DataError

URL = "http://127.0.0.1/test-checksums.tgz"
DIGEST = "ab" * 32


@pytest.fixture(autouse=True)
def clean_registry():
    yield
    CHECKSUMS.pop(URL, None)


def test_registered_checksum_and_size_are_expected_and_a_given_hash_stands_alone():
    assert expected_checksum(URL) == (None, None)
    register_checksum(URL, DIGEST.upper(), size=10)
    assert expected_checksum(URL) == (10, DIGEST)
    assert expected_checksum(URL, DIGEST) == (10, DIGEST)
    assert expected_checksum(URL, "cd" * 32) == (None, "cd" * 32)


def test_bad_digests_and_sizes_are_refused_with_what_was_found():
    with pytest.raises(DataError, match="expected a sha256 of 64 hex digits, found 'xyz'"):
        register_checksum(URL, "xyz")
    with pytest.raises(DataError, match="expected a size in bytes >= 0 or None, found -1"):
        register_checksum(URL, DIGEST, size=-1)


def test_file_sha256_reads_in_chunks(tmp_path):
    data = bytes(range(256)) * 50
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    assert file_sha256(f, chunk_size=100) == hashlib.sha256(data).hexdigest()
