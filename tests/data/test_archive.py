"""extract_archive on tar (gz, bz2, xz) and zip archives built here: contents, refusals, link tricks, bombs, atomicity."""

import io
import re
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


# --- link tricks and bombs -------------------------------------------------------------------------


def nothing_escaped(tmp_path, *allowed):
    """Only `allowed` (and the archive files) sit in tmp_path, and no member named 'marker' was written anywhere."""
    assert not any(p.name == "marker" for p in tmp_path.rglob("*"))
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.endswith((".tgz", ".tar", ".zip", ".xz", ".bz2"))
    ) == sorted(allowed)


def test_a_hardlink_to_a_regular_file_member_is_extracted(tmp_path):
    members = [("a.txt", "file", b"data"), ("b.txt", "hard", "a.txt")]
    out = extract_archive(make_tar(tmp_path / "hard.tgz", members), tmp_path / "out")
    assert (out / "b.txt").read_bytes() == b"data" and (out / "b.txt").stat().st_nlink == 2


@pytest.mark.parametrize(
    ("members", "member", "reason"),
    [
        (
            [("real.txt", "file", b"x"), ("sl", "sym", "real.txt"), ("hl", "hard", "sl")],
            "hl",
            "hardlinks to the link member 'sl'",
        ),
        (
            [
                ("d", "dir", None),
                ("d/sl", "sym", "../real.txt"),
                ("real.txt", "file", b"x"),
                ("hl", "hard", "d/sl"),
            ],
            "hl",
            "hardlinks to the link member 'd/sl'",
        ),
        (
            [("a", "file", b"x"), ("b", "hard", "a"), ("c", "hard", "b")],
            "c",
            "hardlinks to the link member 'b'",
        ),
        ([("h", "hard", "later"), ("later", "file", b"x")], "h", "not a regular file member before it"),
        ([("h", "hard", "missing")], "h", "not a regular file member before it"),
        ([("d", "dir", None), ("h", "hard", "d")], "h", "not a regular file member before it"),
        ([("x", "file", b"x"), ("x2", "sym", "x"), ("h", "hard", "./x2")], "h", "link member './x2'"),
    ],
)
def test_hardlinks_to_links_chains_and_non_files_are_refused(tmp_path, members, member, reason):
    (tmp_path / "outside").mkdir()
    archive = make_tar(tmp_path / "links.tgz", [*members, ("marker", "file", b"ran")])
    with pytest.raises(DataError) as err:
        extract_archive(archive, tmp_path / "out" / "dest")
    message = str(err.value)
    assert f"member {member!r}" in message and reason in message and str(archive) in message
    assert leftovers(tmp_path / "out") == [] and leftovers(tmp_path / "outside") == []
    nothing_escaped(tmp_path, "out", "outside")


ZEROS = 24 * 2**20  # 24 MiB of zeros: a few KB once compressed


def zip_bomb(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ok.txt", b"fine")
        zf.writestr("bomb.bin", bytes(ZEROS))
        zf.writestr("marker", b"ran")
    return path


def tar_bomb(path, mode):
    return make_tar(
        path,
        [("ok.txt", "file", b"fine"), ("bomb.bin", "file", bytes(ZEROS)), ("marker", "file", b"ran")],
        mode,
    )


BOMBS = {
    "zip": lambda tmp: zip_bomb(tmp / "bomb.zip"),
    "tgz": lambda tmp: tar_bomb(tmp / "bomb.tgz", "w:gz"),
    "tar.bz2": lambda tmp: tar_bomb(tmp / "bomb.tar.bz2", "w:bz2"),
    "tar.xz": lambda tmp: tar_bomb(tmp / "bomb.tar.xz", "w:xz"),
}


@pytest.mark.parametrize("kind", list(BOMBS))
def test_a_compression_bomb_is_refused_by_the_default_ratio_limit(tmp_path, kind):
    archive = BOMBS[kind](tmp_path)
    assert archive.stat().st_size * 100 < ZEROS  # it is a bomb: over 100 times smaller than its content
    with pytest.raises(DataError) as err:
        extract_archive(archive, tmp_path / "out" / "dest")
    message = str(err.value)
    assert str(archive) in message and "member 'bomb.bin'" in message and "max_ratio=100.0" in message
    assert f"brings the extracted size to {ZEROS + 4} bytes" in message
    assert leftovers(tmp_path / "out") == []
    nothing_escaped(tmp_path, "out")


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_a_bomb_is_refused_by_a_low_byte_limit_and_extracts_when_trusted(tmp_path, kind):
    archive = BOMBS[kind](tmp_path)
    with pytest.raises(DataError, match=r"member 'bomb\.bin' .* past max_bytes=1000000; pass a larger"):
        extract_archive(archive, tmp_path / "out", max_bytes=1_000_000, max_ratio=None)
    nothing_escaped(tmp_path)
    out = extract_archive(archive, tmp_path / "out", max_bytes=ZEROS + 10, max_ratio=None)
    assert (out / "bomb.bin").stat().st_size == ZEROS and (out / "marker").read_bytes() == b"ran"


def test_the_byte_limit_counts_every_member_and_names_the_one_past_it(tmp_path):
    members = [(f"f{i}.txt", "file", b"x" * 300) for i in range(5)]
    archive = make_tar(tmp_path / "many.tgz", members)
    with pytest.raises(
        DataError, match=r"member 'f3\.txt' brings the extracted size to 1200 bytes, past max_bytes=1000"
    ):
        extract_archive(archive, tmp_path / "out", max_bytes=1000)
    assert extract_archive(archive, tmp_path / "out", max_bytes=1500) == tmp_path / "out"
    zipped = make_zip(tmp_path / "many.zip", [(name, data) for name, _, data in members])
    with pytest.raises(DataError, match=r"member 'f3\.txt' brings the extracted size to 1200 bytes"):
        extract_archive(zipped, tmp_path / "out2", max_bytes=1000)
    nothing_escaped(tmp_path, "out")


def test_a_tar_header_declaring_a_terabyte_is_refused_before_its_data_is_read(tmp_path):
    path = tmp_path / "huge.tar"
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo("huge.bin")
        info.size = 2**40
        tf.addfile(info)  # the header alone: the data is not there
    with pytest.raises(
        DataError,
        match=r"member 'huge\.bin' brings the extracted size to 1099511627776 bytes, past max_bytes",
    ):
        extract_archive(path, tmp_path / "out")
    nothing_escaped(tmp_path)


def test_small_repetitive_archives_pass_the_ratio_limit(tmp_path):
    archive = make_tar(tmp_path / "small.tgz", [("zeros.bin", "file", bytes(2**20))])
    assert archive.stat().st_size * 100 < 2**20
    out = extract_archive(archive, tmp_path / "out")
    assert (out / "zeros.bin").read_bytes() == bytes(2**20)


def test_an_archive_larger_than_the_free_space_is_refused(tmp_path, monkeypatch):
    import shutil

    from layered.data import archive as archive_module

    real = shutil.disk_usage
    monkeypatch.setattr(archive_module.shutil, "disk_usage", lambda p: real(p)._replace(free=500))
    archive = make_tar(tmp_path / "tiny.tgz", [("a.bin", "file", b"x" * 400), ("b.bin", "file", b"x" * 200)])
    with pytest.raises(
        DataError,
        match=r"member 'b\.bin' brings the extracted size to 600 bytes, more than the 500 bytes free",
    ):
        extract_archive(archive, tmp_path / "out")
    nothing_escaped(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_bytes": 0}, "max_bytes must be a positive integer or None, got 0"),
        ({"max_bytes": -5}, "max_bytes must be a positive integer or None, got -5"),
        ({"max_bytes": True}, "max_bytes must be a positive integer or None, got True"),
        ({"max_bytes": 1.5}, "max_bytes must be a positive integer or None, got 1.5"),
        ({"max_ratio": 0}, "max_ratio must be a positive number or None, got 0"),
        ({"max_ratio": float("nan")}, "max_ratio must be a positive number or None, got nan"),
        ({"max_ratio": "10"}, "max_ratio must be a positive number or None, got '10'"),
    ],
)
def test_bad_limits_are_refused(tmp_path, kwargs, message):
    archive = make_tar(tmp_path / "tiny.tgz", DATASET)
    with pytest.raises(DataError, match=re.escape(message)):
        extract_archive(archive, tmp_path / "out", **kwargs)
    nothing_escaped(tmp_path)


def test_untar_data_passes_the_limits_through(tmp_path):
    from layered.data.external import untar_data

    archives = tmp_path / "archives"
    archives.mkdir()
    tar_bomb(archives / "bomb.tgz", "w:gz")  # already downloaded: the unreachable address is never asked
    url = "http://127.0.0.1:9/bomb.tgz"
    with pytest.raises(DataError, match=r"max_ratio=100\.0"):
        untar_data(url, archive=archives, data=tmp_path / "data")
    with pytest.raises(DataError, match="past max_bytes=1000"):
        untar_data(url, archive=archives, data=tmp_path / "data", max_bytes=1000, max_ratio=None)
    assert leftovers(tmp_path / "data") == []
    out = untar_data(url, archive=archives, data=tmp_path / "data", max_ratio=None)
    assert (out / "bomb.bin").stat().st_size == ZEROS
