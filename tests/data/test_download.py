"""download_url and the checksum registry, against a local HTTP server on 127.0.0.1 (no internet)."""

import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from layered.data import checksums, download
from layered.data.checksums import expected_checksum, file_sha256, register_checksum
from layered.data.download import DownloadError, download_url
from layered.data.errors import DataError

BODY = bytes(range(256)) * 1200  # 300 KiB: several read chunks
SHA = hashlib.sha256(BODY).hexdigest()


class Site:
    """A local server of `files` (path -> bytes); paths in `truncated` send half the announced body
    then close, paths in `stalled` send headers then wait, paths in `unsized` send no Content-Length."""

    def __init__(self):
        self.files, self.truncated, self.stalled, self.unsized = {}, set(), set(), set()
        self.requests = []
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                body = site.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if self.path not in site.unsized:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in site.stalled:
                    site.release.wait(10)
                    return
                self.wfile.write(body[: len(body) // 2] if self.path in site.truncated else body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    s.files["/data.bin"] = BODY
    yield s
    s.close()


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Each test gets its own empty checksum registry."""
    monkeypatch.setattr(checksums, "CHECKSUMS", {})
    return checksums.CHECKSUMS


class FakeBar:
    """Records what download_url tells its progress bar."""

    def __init__(self, gen, total=None, leave=True):
        self.total, self.values, self.events = total, [], []

    def update(self, value):
        self.values.append(value)

    def on_interrupt(self):
        self.events.append("interrupt")

    def on_iter_end(self):
        self.events.append("end")


@pytest.fixture
def bars(monkeypatch):
    made = []

    def factory(*args, **kwargs):
        made.append(FakeBar(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(download, "progress_bar", factory)
    return made


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_download_writes_the_body_and_leaves_only_the_destination(site, tmp_path):
    dest = tmp_path / "sub" / "data.bin"
    out = download_url(site.url("/data.bin"), dest, sha256=SHA.upper(), show_progress=False)
    assert out == dest and dest.read_bytes() == BODY
    assert names(dest.parent) == ["data.bin"]


def test_existing_file_is_kept_without_the_network_unless_forced(site, tmp_path):
    dest = tmp_path / "data.bin"
    download_url(site.url("/data.bin"), dest, show_progress=False)
    site.files["/data.bin"] = b"version 2"
    assert download_url(site.url("/data.bin"), dest, show_progress=False).read_bytes() == BODY
    assert len(site.requests) == 1
    download_url(site.url("/data.bin"), dest, force=True, show_progress=False)
    assert dest.read_bytes() == b"version 2" and len(site.requests) == 2
    assert names(tmp_path) == ["data.bin"]


def test_checksum_mismatch_names_url_and_hashes_and_leaves_nothing(site, tmp_path):
    wrong = "0" * 64
    url = site.url("/data.bin")
    with pytest.raises(DataError) as err:
        download_url(url, tmp_path / "data.bin", sha256=wrong, show_progress=False)
    message = str(err.value)
    assert url in message and wrong in message and SHA in message
    assert names(tmp_path) == []


def test_failed_forced_download_keeps_the_old_file(site, tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"old and good")
    with pytest.raises(DataError, match="checksum mismatch"):
        download_url(site.url("/data.bin"), dest, sha256="1" * 64, force=True, show_progress=False)
    assert dest.read_bytes() == b"old and good" and names(tmp_path) == ["data.bin"]


def test_registered_checksum_is_checked_and_a_stale_file_is_fetched_again(site, tmp_path):
    url = site.url("/data.bin")
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"stale copy")
    register_checksum(url, SHA, size=len(BODY))
    assert download_url(url, dest, show_progress=False).read_bytes() == BODY
    assert len(site.requests) == 1
    register_checksum(url, "a" * 64)
    with pytest.raises(DataError, match=r"expected sha256 a{64}"):
        download_url(url, tmp_path / "again.bin", show_progress=False)
    assert names(tmp_path) == ["data.bin"]


def test_registered_size_is_checked_against_the_announced_length(site, tmp_path):
    url = site.url("/data.bin")
    register_checksum(url, SHA, size=len(BODY) + 1)
    with pytest.raises(DataError, match=f"announces {len(BODY)} bytes, expected {len(BODY) + 1}"):
        download_url(url, tmp_path / "data.bin", show_progress=False)
    assert names(tmp_path) == []


def test_connection_closed_mid_body_leaves_no_part_and_no_destination(site, tmp_path):
    site.truncated.add("/data.bin")
    with pytest.raises(DownloadError, match=f"after {len(BODY) // 2} of {len(BODY)} bytes") as err:
        download_url(site.url("/data.bin"), tmp_path / "data.bin", show_progress=False)
    assert isinstance(err.value, OSError) and isinstance(err.value, DataError)
    assert names(tmp_path) == []


def test_http_error_names_the_url_and_status(site, tmp_path):
    url = site.url("/missing.tgz")
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        download_url(url, tmp_path / "missing.tgz", show_progress=False)
    assert url in str(err.value) and names(tmp_path) == []


def test_unreachable_host_raises_a_download_error(tmp_path):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="could not reach"):
        download_url(f"http://127.0.0.1:{port}/x.bin", tmp_path / "x.bin", show_progress=False, timeout=5)
    assert names(tmp_path) == []


def test_stalled_server_times_out_and_leaves_nothing(site, tmp_path):
    site.stalled.add("/data.bin")
    with pytest.raises(DownloadError, match="failed after 0 bytes"):
        download_url(site.url("/data.bin"), tmp_path / "data.bin", show_progress=False, timeout=0.3)
    assert names(tmp_path) == []


def test_interrupt_mid_download_removes_the_part_file(site, tmp_path, monkeypatch):
    seen = []

    class InterruptingBar(FakeBar):
        def update(self, value):
            if value:
                seen.append([p.name for p in tmp_path.iterdir()])  # the .part file exists now
                raise KeyboardInterrupt

    monkeypatch.setattr(download, "progress_bar", InterruptingBar)
    with pytest.raises(KeyboardInterrupt):
        download_url(site.url("/data.bin"), tmp_path / "data.bin")
    assert len(seen[0]) == 1 and seen[0][0].startswith(".data.bin.") and seen[0][0].endswith(".part")
    assert names(tmp_path) == []


def test_progress_bar_follows_the_bytes(site, tmp_path, bars):
    download_url(site.url("/data.bin"), tmp_path / "data.bin")
    (bar,) = bars
    assert bar.total == len(BODY)
    assert bar.values[0] == 0 and bar.values[-1] == len(BODY) and bar.values == sorted(bar.values)
    assert len(bar.values) > 2 and bar.events == []


def test_progress_bar_of_unknown_length_is_closed(site, tmp_path, bars):
    site.unsized.add("/data.bin")
    assert download_url(site.url("/data.bin"), tmp_path / "data.bin").read_bytes() == BODY
    assert bars[0].total == "noinfer" and bars[0].values[-1] == len(BODY) and bars[0].events == ["end"]


def test_progress_bar_is_interrupted_on_failure(site, tmp_path, bars):
    site.truncated.add("/data.bin")
    with pytest.raises(DownloadError):
        download_url(site.url("/data.bin"), tmp_path / "data.bin")
    assert bars[0].events == ["interrupt"]


def test_progress_can_be_silenced(site, tmp_path, bars, capsys):
    download_url(site.url("/data.bin"), tmp_path / "data.bin", show_progress=False)
    assert bars == []
    assert capsys.readouterr() == ("", "")


def test_dest_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        download_url("http://127.0.0.1:9/x", tmp_path)


def test_file_sha256_streams_the_same_hash_as_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(BODY)
    assert file_sha256(path) == SHA
    assert file_sha256(path, chunk_size=1000) == SHA


def test_register_checksum_validates_and_expected_checksum_prefers_the_caller(registry):
    url = "https://example.invalid/a.tgz"
    register_checksum(url, "AB" * 32, size=10)
    assert registry[url] == (10, "ab" * 32)
    assert expected_checksum(url) == (10, "ab" * 32)
    assert expected_checksum(url, "ab" * 32) == (10, "ab" * 32)
    assert expected_checksum(url, "cd" * 32) == (
        None,
        "cd" * 32,
    )  # the registered size is not the caller's file
    assert expected_checksum("https://example.invalid/other.tgz") == (None, None)
    with pytest.raises(DataError, match="64 hex digits, found 'abc'"):
        register_checksum(url, "abc")
    with pytest.raises(DataError, match="size in bytes"):
        register_checksum(url, "ab" * 32, size=-1)
    with pytest.raises(DataError, match="64 hex digits"):
        expected_checksum(url, "z" * 64)
