"""scripts/registry_data.py on archives the tests build: extraction and sha256 checks are real, pip is not."""

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest
import registry_data
from registry_data import FILES, PackageFile, RegistryDataError, cache_folder, fetch, file_sha256

CONTENT = b"label,p0\n3,0\n7,255\n"


@pytest.fixture
def fake_file(monkeypatch):
    """Register a package file whose recorded hash matches CONTENT."""
    spec = PackageFile("fakepkg", "1.2.3", "fakepkg/data/digits.csv", hashlib.sha256(CONTENT).hexdigest())
    monkeypatch.setitem(FILES, "fake", spec)
    return spec


def wheel_downloader(content: bytes, calls: list):
    """A stand-in for pip that writes a wheel holding `content` at the member path."""

    def download(requirement: str, dest: Path) -> Path:
        calls.append(requirement)
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / "fakepkg-1.2.3-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("fakepkg/__init__.py", "")
            zf.writestr("fakepkg/data/digits.csv", content)
        return path

    return download


def sdist_downloader(content: bytes, calls: list):
    """A stand-in for pip that writes an sdist tarball, files nested under `fakepkg-1.2.3/`."""

    def download(requirement: str, dest: Path) -> Path:
        calls.append(requirement)
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / "fakepkg-1.2.3.tar.gz"
        with tarfile.open(path, "w:gz") as tf:
            info = tarfile.TarInfo("fakepkg-1.2.3/fakepkg/data/digits.csv")
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
        return path

    return download


def test_fetch_extracts_the_file_from_a_wheel_once(tmp_path, fake_file):
    calls = []
    path = fetch("fake", cache=tmp_path, download=wheel_downloader(CONTENT, calls))
    assert path.read_bytes() == CONTENT
    assert path.is_relative_to(tmp_path)
    assert calls == ["fakepkg==1.2.3"]
    again = fetch("fake", cache=tmp_path, download=wheel_downloader(CONTENT, calls))
    assert again == path
    assert calls == ["fakepkg==1.2.3"]  # cached: pip not asked again


def test_fetch_reuses_a_cached_archive_when_the_file_is_gone(tmp_path, fake_file):
    calls = []
    path = fetch("fake", cache=tmp_path, download=wheel_downloader(CONTENT, calls))
    path.unlink()
    assert fetch("fake", cache=tmp_path, download=wheel_downloader(CONTENT, calls)).read_bytes() == CONTENT
    assert len(calls) == 1


def test_fetch_reads_an_sdist_tarball(tmp_path, fake_file):
    calls = []
    path = fetch("fake", cache=tmp_path, download=sdist_downloader(CONTENT, calls))
    assert path.read_bytes() == CONTENT
    assert file_sha256(path) == fake_file.sha256


def test_a_wrong_hash_raises_names_both_hashes_and_removes_the_file(tmp_path, fake_file):
    tampered = CONTENT + b"1,1\n"
    with pytest.raises(RegistryDataError) as info:
        fetch("fake", cache=tmp_path, download=wheel_downloader(tampered, []))
    message = str(info.value)
    assert fake_file.sha256 in message
    assert hashlib.sha256(tampered).hexdigest() in message
    assert "fakepkg==1.2.3" in message
    assert not (tmp_path / "fakepkg-1.2.3" / "files" / fake_file.member).exists()


def test_a_missing_member_raises(tmp_path, monkeypatch):
    monkeypatch.setitem(FILES, "fake", PackageFile("fakepkg", "1.2.3", "fakepkg/absent.csv", "0" * 64))
    with pytest.raises(RegistryDataError, match=r"has no file fakepkg/absent\.csv"):
        fetch("fake", cache=tmp_path, download=wheel_downloader(CONTENT, []))


def test_an_unknown_name_lists_the_known_ones(tmp_path):
    with pytest.raises(RegistryDataError, match="mnist_5k"):
        fetch("no_such_data", cache=tmp_path, download=wheel_downloader(CONTENT, []))


def test_a_failing_pip_raises_with_its_message(tmp_path, monkeypatch):
    class Done:
        returncode = 1
        stderr = "ERROR: No matching distribution found for fakepkg==1.2.3"

    monkeypatch.setattr(registry_data.subprocess, "run", lambda *a, **k: Done())
    with pytest.raises(RegistryDataError, match="No matching distribution"):
        registry_data.pip_download("fakepkg==1.2.3", tmp_path)


def test_cache_folder_follows_layered_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERED_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "recipes"
    monkeypatch.delenv("LAYERED_HOME")
    assert cache_folder() == Path.home() / ".cache" / "layered-recipes"


def test_every_recorded_file_is_pinned_and_hashed():
    for name, spec in FILES.items():
        assert spec.version.count(".") >= 1, name
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0, name
