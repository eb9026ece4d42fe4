"""atomic_write: the file appears whole or not at all, with a plain open's mode, and cleans up after dead writers."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from layered.core.atomic import atomic_save, atomic_write, remove_stale_temporaries


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


posix_only = pytest.mark.skipif(os.name != "posix", reason="modes, umask and process probes are POSIX")


@pytest.fixture
def umask():
    """Set a umask for one test and restore the previous one afterwards."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_a_new_file_gets_the_mode_a_plain_open_gives(tmp_path, umask, mask):
    umask(mask)
    with open(tmp_path / "plain.txt", "w") as f:
        f.write("x")
    with atomic_write(tmp_path / "atomic.txt", "w") as f:
        f.write("x")
    expected = 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode) == expected


@posix_only
def test_a_replaced_file_keeps_its_mode_as_with_a_plain_open(tmp_path, umask):
    umask(0o022)
    file = tmp_path / "a.bin"
    file.write_bytes(b"old")
    file.chmod(0o600)
    with atomic_write(file) as f:
        f.write(b"new")
    assert file.read_bytes() == b"new" and stat.S_IMODE(file.stat().st_mode) == 0o600


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_the_temporary_is_named_after_the_target_host_and_process(tmp_path):
    file = tmp_path / "a.b.txt"
    with atomic_write(file, "w") as f:
        names = _temporaries(tmp_path)
        f.write("x")
    assert len(names) == 1
    assert re.fullmatch(rf"\.a\.b\.txt\.[0-9a-f]{{8}}-{os.getpid()}\.[0-9a-f]{{8}}\.tmp", names[0])
    assert _temporaries(tmp_path) == []


_CRASH = """
import os, sys
from layered.core.atomic import atomic_write
with atomic_write(sys.argv[1]) as f:
    f.write(b"half")
    f.flush()
    os._exit(3)  # killed between writing and renaming
"""


def _crash_while_writing(file: Path) -> str:
    done = subprocess.run([sys.executable, "-c", _CRASH, str(file)], capture_output=True)
    assert done.returncode == 3, done.stderr.decode()
    (name,) = [n for n in _temporaries(file.parent) if n.startswith(f".{file.name}.")]
    return name


@posix_only
def test_a_crashed_writer_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    file = tmp_path / "a.bin"
    stale = _crash_while_writing(file)
    assert (tmp_path / stale).read_bytes() == b"half" and not file.exists()
    with atomic_write(file) as f:
        f.write(b"whole")
    assert file.read_bytes() == b"whole" and _temporaries(tmp_path) == []


@posix_only
def test_only_stale_temporaries_of_the_same_target_on_this_host_are_removed(tmp_path):
    file = tmp_path / "a.bin"
    stale = _crash_while_writing(file)
    other_target = _crash_while_writing(tmp_path / "b.bin")
    prefix_target = _crash_while_writing(tmp_path / "a.bin.old")
    host, dead = stale.split(".")[3].split("-")
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        kept = [
            f".a.bin.{host}-{live.pid}.0123abcd.tmp",  # a live writer
            f".a.bin.{host}-{os.getpid()}.0123abcd.tmp",  # this process (another thread may write)
            f".a.bin.{'0' * 8 if host != '0' * 8 else '1' * 8}-{dead}.0123abcd.tmp",  # another host
            f".a.bin.{host}-{dead}.tmp",  # not one of ours: no random part
            f".a.bin.{host}-0.0123abcd.tmp",  # pid 0 is never probed
            "a.bin.txt",
            ".a.bin",
        ]
        for name in kept:
            (tmp_path / name).write_bytes(b"keep")
        (tmp_path / "folder").mkdir()
        (tmp_path / f".a.bin.{host}-{dead}.89abcdef.tmp").symlink_to(tmp_path / "folder")
        kept.append(f".a.bin.{host}-{dead}.89abcdef.tmp")  # not a regular file
        removed = remove_stale_temporaries(file)
        assert [p.name for p in removed] == [stale]
        for name in [other_target, prefix_target, *kept]:
            assert (tmp_path / name).is_symlink() or (tmp_path / name).read_bytes() in (b"keep", b"half")
    finally:
        live.stdin.close()
        live.wait()
    assert remove_stale_temporaries(tmp_path / "b.bin") == [tmp_path / other_target]


def test_removing_stale_temporaries_in_a_missing_folder_removes_nothing(tmp_path):
    assert remove_stale_temporaries(tmp_path / "nowhere" / "a.bin") == []


def test_atomic_save_round_trips_a_state_dict(tmp_path):
    import torch

    state = {"w": torch.arange(6.0).reshape(2, 3)}
    atomic_save(state, tmp_path / "m.pth")
    loaded = torch.load(tmp_path / "m.pth", weights_only=True)
    assert torch.equal(loaded["w"], state["w"]) and _temporaries(tmp_path) == []
