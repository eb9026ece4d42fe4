"""extract_archive on tar (gz, bz2, xz) and zip archives built here: contents, refusals, atomicity."""

import io
import tarfile
import zipfile

import pytest

from layered.data.archive import extract_archive
from layered.data.errors import DataError


def make_tar(path, members, mode="w:gz"):
    """Write a tar of `(name, kind, payload)`: kind 'file' (payload bytes), 'dir', 'sym' or 'hard' (target)."""
    with tarfile.open(path, mode) as tf:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[kind]
            info.mode = 0o755 if kind == "dir" else 0o644
            info.linkname = payload or ""
            tf.addfile(info)
    return path


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


DATASET = [
    ("tiny", "dir", None),
    ("tiny/train", "dir", None),
    ("tiny/train/a.txt", "file", b"alpha"),
    ("tiny/labels.csv", "file", b"name,label\na.txt,1\n"),
]


@pytest.mark.parametrize(
    ("suffix", "mode"), [(".tgz", "w:gz"), (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz"), (".tar", "w")]
)
def test_tar_in_every_compression_extracts_its_files(tmp_path, suffix, mode):
    archive = make_tar(tmp_path / f"tiny{suffix}", DATASET, mode)
    out = extract_archive(archive, tmp_path / "out")
    assert out == tmp_path / "out"
    assert (out / "tiny" / "train" / "a.txt").read_bytes() == b"alpha"
    assert (out / "tiny" / "labels.csv").read_text() == "name,label\na.txt,1\n"
    assert leftovers(tmp_path) == sorted([archive.name, "out"])  # no staging folder left


def test_zip_extracts_and_format_is_read_from_content_not_name(tmp_path):
    archive = make_zip(tmp_path / "named.tgz", [("d/x.txt", b"zipped"), ("y.txt", b"top")])
    out = extract_archive(archive, tmp_path / "out")
    assert (out / "d" / "x.txt").read_bytes() == b"zipped" and (out / "y.txt").read_bytes() == b"top"


def test_unwrap_lifts_a_single_top_folder(tmp_path):
    archive = make_tar(tmp_path / "tiny.tgz", DATASET)
    out = extract_archive(archive, tmp_path / "ds", unwrap=True)
    assert sorted(p.name for p in out.iterdir()) == ["labels.csv", "train"]
    assert leftovers(tmp_path) == ["ds", "tiny.tgz"]


def test_unwrap_keeps_several_top_entries(tmp_path):
    archive = make_zip(tmp_path / "two.zip", [("a/x", b"1"), ("b/y", b"2")])
    out = extract_archive(archive, tmp_path / "ds", unwrap=True)
    assert sorted(p.name for p in out.iterdir()) == ["a", "b"]


def test_symlink_inside_the_destination_is_kept(tmp_path):
    members = [("v1", "dir", None), ("v1/f.txt", "file", b"data"), ("latest", "sym", "v1")]
    out = extract_archive(make_tar(tmp_path / "links.tgz", members), tmp_path / "out")
    assert (out / "latest").is_symlink() and (out / "latest" / "f.txt").read_bytes() == b"data"


@pytest.mark.parametrize(
    ("members", "member", "reason"),
    [
        ([("../evil", "file", b"x")], "../evil", "'..' component"),
        ([("ok/../../evil", "file", b"x")], "ok/../../evil", "'..' component"),
        ([("/tmp/evil", "file", b"x")], "/tmp/evil", "absolute path"),
        ([("etc", "sym", "/etc")], "etc", "absolute path '/etc'"),
        ([("d", "dir", None), ("d/up", "sym", "../../outside")], "d/up", "outside the destination"),
        ([("pw", "hard", "/etc/passwd")], "pw", "hardlinks to '/etc/passwd'"),
        ([("up", "hard", "../outside")], "up", "'..' component"),
        ([("here", "sym", "."), ("here/x", "file", b"x")], "here/x", "inside the link member 'here'"),
        ([("a", "sym", "."), ("b", "sym", "a/..")], "b", "through the link member 'a'"),
    ],
)
def test_unsafe_tar_members_are_refused_by_name_and_nothing_is_written(tmp_path, members, member, reason):
    archive = make_tar(tmp_path / "evil.tgz", [("fine.txt", "file", b"ok"), *members])
    with pytest.raises(DataError) as err:
        extract_archive(archive, tmp_path / "out" / "dest")
    assert f"member {member!r}" in str(err.value) and reason in str(err.value)
    assert str(archive) in str(err.value)
    assert leftovers(tmp_path / "out") == []  # neither dest nor a staging folder
    assert not (tmp_path / "evil").exists() and not (tmp_path / "outside").exists()


def test_device_members_are_refused(tmp_path):
    path = tmp_path / "dev.tar"
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo("null")
        info.type = tarfile.CHRTYPE
        tf.addfile(info)
    with pytest.raises(DataError, match="'null' is a device or fifo"):
        extract_archive(path, tmp_path / "out")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("../evil.txt", "'..' component"), ("/abs.txt", "absolute path"), ("a\\..\\..\\evil", "'..' component")],
)
def test_unsafe_zip_members_are_refused(tmp_path, name, reason):
    archive = make_zip(tmp_path / "evil.zip", [("fine.txt", b"ok"), (name, b"x")])
    with pytest.raises(DataError, match=reason) as err:
        extract_archive(archive, tmp_path / "out" / "dest")
    assert repr(name) in str(err.value)
    assert not (tmp_path / "out" / "dest").exists() and not (tmp_path / "evil.txt").exists()


def test_existing_dest_needs_overwrite_which_replaces_it_whole(tmp_path):
    dest = tmp_path / "ds"
    dest.mkdir()
    (dest / "stale.txt").write_text("old")
    archive = make_tar(tmp_path / "tiny.tgz", DATASET)
    with pytest.raises(DataError, match="already exists; pass overwrite=True"):
        extract_archive(archive, dest)
    assert (dest / "stale.txt").read_text() == "old"
    extract_archive(archive, dest, overwrite=True, unwrap=True)
    assert sorted(p.name for p in dest.iterdir()) == ["labels.csv", "train"]
    assert leftovers(tmp_path) == ["ds", "tiny.tgz"]  # the old folder was removed, not left aside


def test_refused_overwrite_keeps_the_old_dest(tmp_path):
    dest = tmp_path / "ds"
    dest.mkdir()
    (dest / "keep.txt").write_text("old")
    with pytest.raises(DataError):
        extract_archive(make_tar(tmp_path / "evil.tgz", [("../evil", "file", b"x")]), dest, overwrite=True)
    assert (dest / "keep.txt").read_text() == "old"
    assert leftovers(tmp_path) == ["ds", "evil.tgz"]


def test_not_an_archive_and_truncated_archive_raise_data_errors(tmp_path):
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(b"this is not an archive at all" * 40)
    with pytest.raises(DataError, match=r"not a readable tar .* or zip archive"):
        extract_archive(junk, tmp_path / "a")
    big = [("big.bin", "file", bytes(range(256)) * 400)]
    whole = make_tar(tmp_path / "whole.tar", big, "w").read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole[:2000])
    with pytest.raises(DataError, match="damaged or truncated"):
        extract_archive(cut, tmp_path / "b")
    with pytest.raises(DataError, match="is not a file"):
        extract_archive(tmp_path / "missing.tgz", tmp_path / "c")
    assert leftovers(tmp_path) == ["cut.tar", "junk.tgz", "whole.tar"]
