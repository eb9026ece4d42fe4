"""atomic_write: the file appears whole or not at all."""

import pytest

from layered.core.atomic import atomic_write


def test_writes_text_and_bytes_and_leaves_no_temporary_file(tmp_path):
    with atomic_write(tmp_path / "sub" / "a.txt", "w", encoding="utf8") as f:
        f.write("héllo")
    with atomic_write(tmp_path / "b.bin") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "sub" / "a.txt").read_text(encoding="utf8") == "héllo"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.txt", "b.bin"]


def test_an_error_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    file = tmp_path / "a.txt"
    file.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(file, "w") as f:
        f.write("half")
        raise RuntimeError("boom")
    assert file.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_only_write_modes_are_accepted(tmp_path):
    with pytest.raises(ValueError, match="mode must be"), atomic_write(tmp_path / "a", "a"):
        pass
