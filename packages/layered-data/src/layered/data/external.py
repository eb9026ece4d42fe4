"""Public data sets by address (`URLs`), fetched into the layered home and extracted once (`untar_data`).

`untar_data(URLs.MNIST_TINY)` downloads `mnist_tiny.tgz` into `layered_home()/archive`,
extracts it into `layered_home()/data/mnist_tiny` and returns that folder. Later calls find the
folder and return it without touching the network: extraction is atomic and happens only after
the download passed its checksum (when one is known), so an existing folder is a complete one.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlparse

from layered.data.archive import DEFAULT_MAX_BYTES, DEFAULT_MAX_RATIO, extract_archive
from layered.data.config import Config
from layered.data.download import download_url
from layered.data.errors import DataError

__all__ = ["URLs", "download_data", "untar_data"]

_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".tar", ".zip")


class URLs:
    """Addresses of the public data sets the applications use (fast.ai's S3 buckets and MovieLens)."""

    S3 = "https://s3.amazonaws.com/fast-ai-"
    URL = f"{S3}sample/"
    S3_IMAGE = f"{S3}imageclas/"
    S3_IMAGELOC = f"{S3}imagelocal/"
    S3_NLP = f"{S3}nlp/"
    S3_COCO = f"{S3}coco/"

    # Small samples, for tutorials and quick experiments
    ADULT_SAMPLE = f"{URL}adult_sample.tgz"
    BIWI_SAMPLE = f"{URL}biwi_sample.tgz"
    CAMVID_TINY = f"{URL}camvid_tiny.tgz"
    CIFAR = f"{URL}cifar10.tgz"
    HUMAN_NUMBERS = f"{URL}human_numbers.tgz"
    IMDB_SAMPLE = f"{URL}imdb_sample.tgz"
    ML_SAMPLE = f"{URL}movie_lens_sample.tgz"
    MNIST_SAMPLE = f"{URL}mnist_sample.tgz"
    MNIST_TINY = f"{URL}mnist_tiny.tgz"
    PLANET_TINY = f"{URL}planet_tiny.tgz"

    # Image classification
    CIFAR_100 = f"{S3_IMAGE}cifar100.tgz"
    IMAGENETTE = f"{S3_IMAGE}imagenette2.tgz"
    IMAGENETTE_160 = f"{S3_IMAGE}imagenette2-160.tgz"
    IMAGENETTE_320 = f"{S3_IMAGE}imagenette2-320.tgz"
    IMAGEWOOF = f"{S3_IMAGE}imagewoof2.tgz"
    IMAGEWOOF_160 = f"{S3_IMAGE}imagewoof2-160.tgz"
    IMAGEWOOF_320 = f"{S3_IMAGE}imagewoof2-320.tgz"
    MNIST = f"{S3_IMAGE}mnist_png.tgz"
    PETS = f"{S3_IMAGE}oxford-iiit-pet.tgz"

    # Localization, segmentation and detection
    BIWI_HEAD_POSE = f"{S3_IMAGELOC}biwi_head_pose.tgz"
    CAMVID = f"{S3_IMAGELOC}camvid.tgz"
    PASCAL_2007 = f"{S3_IMAGELOC}pascal_2007.tgz"
    COCO_SAMPLE = f"{S3_COCO}coco_sample.tgz"
    COCO_TINY = f"{S3_COCO}coco_tiny.tgz"

    # Text
    IMDB = f"{S3_NLP}imdb.tgz"
    WIKITEXT = f"{S3_NLP}wikitext-103.tgz"
    WIKITEXT_TINY = f"{S3_NLP}wikitext-2.tgz"

    # Collaborative filtering
    ML_100k = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"


def _file_name(url: str) -> str:
    """The file name at the end of `url`'s path (`.../mnist_tiny.tgz` -> `mnist_tiny.tgz`)."""
    name = unquote(posixpath.basename(urlparse(url).path))
    if name in ("", ".", "..") or "/" in name or "\\" in name:
        raise DataError(f"cannot name a local file after url {url!r}: its path does not end in a file name")
    return name


def _data_name(url: str) -> str:
    """The folder name for the data set at `url`: its file name without the archive suffix."""
    name = _file_name(url)
    suffix = next((s for s in _ARCHIVE_SUFFIXES if name.lower().endswith(s)), "")
    return name[: len(name) - len(suffix)] or name


def download_data(
    url: str, fname: str | os.PathLike | None = None, force_download: bool = False, sha256: str | None = None
) -> Path:
    """Download `url` to `fname` (default: the layered archive folder) unless it is there; return its path."""
    fname = Path(fname) if fname is not None else Config().archive / _file_name(url)
    return download_url(url, fname, sha256=sha256, force=force_download)


def untar_data(
    url: str,
    archive: str | os.PathLike | None = None,
    data: str | os.PathLike | None = None,
    c_key: str = "data",
    force_download: bool = False,
    sha256: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_ratio: float | None = DEFAULT_MAX_RATIO,
) -> Path:
    """Download and extract the archive at `url` once; return the folder holding its contents.

    The archive goes into the folder `archive` (default `layered_home()/archive`), and is
    extracted into `<data>/<name>`, `name` being the archive's file name without its suffix and
    `data` defaulting to the `c_key` folder of the layered home (`'data'` or `'models'`). A single
    top-level folder in the archive is unwrapped. When that folder exists it is returned at
    once; `force_download=True` downloads and extracts again, replacing both. `max_bytes` and
    `max_ratio` bound the extraction (see `extract_archive`).
    """
    config = Config()
    data_dir = Path(data) if data is not None else config.path(c_key)
    dest = data_dir / _data_name(url)
    if dest.is_dir() and not force_download:
        return dest
    archive_dir = Path(archive) if archive is not None else config.archive
    fname = download_data(url, archive_dir / _file_name(url), force_download=force_download, sha256=sha256)
    return extract_archive(fname, dest, overwrite=True, unwrap=True, max_bytes=max_bytes, max_ratio=max_ratio)
