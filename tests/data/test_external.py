"""Config, URLs, download_data and untar_data against a local HTTP server on 127.0.0.1 (no internet)."""

import hashlib
import io
import re
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from layered.data import checksums
from layered.data.config import Config, layered_home
from layered.data.errors import DataError
from layered.data.external import URLs, download_data, untar_data


class Site:
    """A local HTTP server of `files` (path -> bytes) that records the paths it was asked for."""

    def __init__(self):
        self.files, self.requests = {}, []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = urlsplit(self.path).path
                site.requests.append(path)
                if path not in site.files:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(site.files[path])))
                self.end_headers()
                self.wfile.write(site.files[path])

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.closed = False

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self):
        if not self.closed:
            self.server.shutdown()
            self.server.server_close()
            self.closed = True


def tgz(files, top="tiny"):
    """A gzipped tar holding `files` (relative name -> bytes) under the folder `top`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


TINY = tgz({"train/3/a.png": b"three", "train/7/b.png": b"seven", "labels.csv": b"name,label\n"})


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERED_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(checksums, "CHECKSUMS", {})
    return tmp_path / "home"


@pytest.fixture
def site():
    s = Site()
    s.files["/ds/tiny.tgz"] = TINY
    yield s
    s.close()


def names(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def test_layered_home_reads_the_environment_at_call_time(tmp_path, monkeypatch):
    monkeypatch.delenv("LAYERED_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert layered_home() == tmp_path / "user" / ".layered"
    monkeypatch.setenv("LAYERED_HOME", "")
    assert layered_home() == tmp_path / "user" / ".layered"
    monkeypatch.setenv("LAYERED_HOME", str(tmp_path / "elsewhere"))
    assert layered_home() == tmp_path / "elsewhere"
    assert not (tmp_path / "elsewhere").exists()  # asking for the home creates nothing


def test_config_creates_its_folders_on_demand(home, tmp_path):
    config = Config()
    assert config.home == home and not home.exists()
    assert config.archive == home / "archive" and (home / "archive").is_dir()
    assert config.models == home / "models" and names(home) == ["archive", "models"]
    assert Config(tmp_path / "other").data == tmp_path / "other" / "data"
    with pytest.raises(DataError, match="unknown folder 'weights'; expected one of archive, data, models"):
        config.path("weights")


def test_untar_data_downloads_extracts_and_unwraps(home, site):
    path = untar_data(site.url("/ds/tiny.tgz"))
    assert path == home / "data" / "tiny"
    assert names(path) == ["labels.csv", "train"]
    assert (path / "train" / "7" / "b.png").read_bytes() == b"seven"
    assert names(home / "archive") == ["tiny.tgz"] and (home / "archive" / "tiny.tgz").read_bytes() == TINY
    assert names(home / "data") == ["tiny"]  # no staging or part files left


def test_cache_hit_needs_no_network(home, site):
    url = site.url("/ds/tiny.tgz")
    first = untar_data(url, sha256=hashlib.sha256(TINY).hexdigest())
    site.close()
    assert untar_data(url) == first and untar_data(url, sha256="0" * 64) == first
    assert site.requests == ["/ds/tiny.tgz"]
    assert (first / "labels.csv").read_bytes() == b"name,label\n"


def test_archive_already_downloaded_is_extracted_without_the_network(home, site):
    url = site.url("/ds/tiny.tgz")
    assert download_data(url) == home / "archive" / "tiny.tgz"
    site.close()
    assert names(untar_data(url)) == ["labels.csv", "train"]
    assert site.requests == ["/ds/tiny.tgz"]


def test_corrupt_download_is_caught_by_sha256_and_leaves_nothing(home, site):
    url = site.url("/ds/tiny.tgz")
    good = hashlib.sha256(TINY).hexdigest()
    site.files["/ds/tiny.tgz"] = TINY[:-10] + b"corrupted!"
    with pytest.raises(DataError) as err:
        untar_data(url, sha256=good)
    assert url in str(err.value) and good in str(err.value)
    assert names(home / "archive") == [] and names(home / "data") == []


def test_registered_checksum_guards_untar_data(home, site):
    url = site.url("/ds/tiny.tgz")
    checksums.register_checksum(url, "f" * 64)
    with pytest.raises(DataError, match="checksum mismatch"):
        untar_data(url)
    checksums.register_checksum(url, hashlib.sha256(TINY).hexdigest(), size=len(TINY))
    assert names(untar_data(url)) == ["labels.csv", "train"]


def test_force_download_replaces_archive_and_folder(home, site):
    url = site.url("/ds/tiny.tgz")
    path = untar_data(url)
    site.files["/ds/tiny.tgz"] = tgz({"v2.txt": b"second version"})
    assert untar_data(url) == path and names(path) == ["labels.csv", "train"]  # cached, not refreshed
    assert untar_data(url, force_download=True) == path
    assert names(path) == ["v2.txt"] and (path / "v2.txt").read_text() == "second version"
    assert len(site.requests) == 2 and names(home / "data") == ["tiny"]


def test_traversal_archive_is_refused_and_nothing_is_extracted(home, site, tmp_path):
    site.files["/ds/evil.tgz"] = tgz({"../../escaped.txt": b"pwned"}, top=None)
    with pytest.raises(DataError, match=re.escape("member '../../escaped.txt' has a '..' component")):
        untar_data(site.url("/ds/evil.tgz"))
    assert names(home / "data") == []
    assert not any(p.name == "escaped.txt" for p in tmp_path.rglob("*"))


def test_folders_can_be_chosen(home, site, tmp_path):
    url = site.url("/ds/tiny.tgz")
    assert untar_data(url, c_key="models") == home / "models" / "tiny"
    path = untar_data(url, archive=tmp_path / "arch", data=tmp_path / "ds", force_download=True)
    assert path == tmp_path / "ds" / "tiny" and names(tmp_path / "arch") == ["tiny.tgz"]
    assert download_data(url, fname=tmp_path / "copy.tgz").read_bytes() == TINY


def test_zip_data_set_with_query_string_in_url(home, site):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("ml-100k/u.data", "196\t242\t3\n")
    site.files["/ml-100k.zip"] = buffer.getvalue()
    path = untar_data(site.url("/ml-100k.zip?download=1"))
    assert path == home / "data" / "ml-100k" and (path / "u.data").read_text() == "196\t242\t3\n"
    assert names(home / "archive") == ["ml-100k.zip"]


def test_url_without_a_file_name_is_refused(home):
    with pytest.raises(DataError, match="does not end in a file name"):
        untar_data("http://127.0.0.1:9/datasets/")


def test_urls_catalogue_holds_the_public_addresses():
    assert URLs.MNIST_TINY == "https://s3.amazonaws.com/fast-ai-sample/mnist_tiny.tgz"
    assert URLs.IMAGENETTE_160 == "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz"
    assert URLs.IMDB == "https://s3.amazonaws.com/fast-ai-nlp/imdb.tgz"
    assert URLs.COCO_TINY == "https://s3.amazonaws.com/fast-ai-coco/coco_tiny.tgz"
    datasets = {k: v for k, v in vars(URLs).items() if k.isupper() and k != "URL" and not k.startswith("S3")}
    datasets["ML_100k"] = URLs.ML_100k
    assert len(datasets) >= 16 and len(set(datasets.values())) == len(datasets)
    for name, url in datasets.items():
        assert url.startswith("https://") and url.endswith((".tgz", ".zip")), name
