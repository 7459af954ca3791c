"""MNIST from local files (Keras's ``mnist.npz`` or the four IDX files) or a verified
download; never a silent network access.

``load_data()`` is Keras's: ``(x_train, y_train), (x_test, y_test)``, uint8 arrays of
shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,). ``load`` also says which
files were read (for the lab's records).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ._arrays import Split
from ._cache import cache_dir, keras_datasets_dir
from ._download import check_sha256, sha256_of
from ._download import download as download_file
from ._errors import DatasetError
from ._idxset import IDX_NAMES, Found, Layout, check_images, find, read_found

__all__ = [
    "KERAS_URL",
    "KERAS_SHA256",
    "NPZ_NAME",
    "IDX_NAMES",
    "MnistFiles",
    "search_dirs",
    "find_files",
    "load",
    "load_data",
]

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_NAME = "mnist.npz"

MnistFiles = Found
"""Where MNIST was found: one ``npz`` file or four IDX files (key -> path)."""


def search_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """``[data_dir]`` when given, else ``~/.keras/datasets`` then gradstep's cache."""
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    return [keras_datasets_dir(), cache_dir()]


def _check(split: Split, source: str) -> Split:
    return check_images(split, source, "MNIST")


LAYOUT = Layout("MNIST", NPZ_NAME, search_dirs, _check)


def find_files(data_dir: str | os.PathLike[str] | None = None) -> Found | None:
    """The first directory of ``search_dirs(data_dir)`` holding MNIST, or None."""
    return find(search_dirs(data_dir), LAYOUT)


def not_found_message(data_dir: str | os.PathLike[str] | None) -> str:
    """The one-line instruction of where to put which file."""
    where = " or ".join(str(d) for d in search_dirs(data_dir))
    idx = ", ".join(name + ".gz" for name in IDX_NAMES.values())
    target = search_dirs(data_dir)[-1]
    return (
        f"MNIST not found: put Keras's {NPZ_NAME} ({KERAS_URL}) or the four IDX files "
        f"{idx} (gzipped or not) in {where}"
        + ("" if data_dir is not None else ", or pass --data-dir DIR")
        + f"; or use --download to fetch {NPZ_NAME} into {target} (sha256-verified)"
    )


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    url: str = KERAS_URL,
    sha256: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[Split, Found]:
    """MNIST as ``((x_train, y_train), (x_test, y_test))`` (uint8 images (n, 28, 28),
    labels 0..9), and where it came from.

    Looks in ``data_dir`` if given, else ``~/.keras/datasets`` and gradstep's cache. With
    ``download=True`` and nothing found, fetches ``url`` into ``data_dir`` (or the cache)
    and keeps it only if its sha256 equals ``sha256`` (Keras's known digest for the default
    URL; required for another URL). A given ``sha256`` is also checked against a local
    ``mnist.npz``. Raises ``DatasetError`` with instructions when the data is missing."""
    expected = check_sha256(sha256) if sha256 is not None else None
    if expected is None and url == KERAS_URL:
        expected = KERAS_SHA256 if download else None
    if download and expected is None:
        raise DatasetError(
            f"downloading from {url} needs its sha256 (--sha256), so the file can be verified"
        )
    found = find_files(data_dir)
    if found is not None and found.npz is not None and expected is not None:
        actual = sha256_of(found.npz)
        if actual != expected:
            if not download:
                raise DatasetError(
                    f"{found.npz} has sha256 {actual}, expected {expected}; replace it "
                    "or drop --sha256"
                )
            found = None  # a stale or corrupt copy: fetch a verified one
    if found is not None and found.idx is not None and sha256 is not None:
        raise DatasetError(
            f"--sha256 checks a single mnist.npz, but {found.directory} holds IDX files"
        )
    if found is None:
        if not download:
            raise DatasetError(not_found_message(data_dir))
        target = search_dirs(data_dir)[-1] / NPZ_NAME
        assert expected is not None
        download_file(url, target, expected, progress=progress)
        found = Found(target.parent, npz=target)
    return read_found(found, LAYOUT), found


def load_data(
    path: str | os.PathLike[str] = NPZ_NAME,
    *,
    download: bool = False,
    sha256: str | None = None,
) -> Split:
    """Keras's ``mnist.load_data(path='mnist.npz')``: ``(x_train, y_train), (x_test,
    y_test)`` as uint8 arrays (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).

    ``path`` is a file name looked up in ``~/.keras/datasets`` (then gradstep's cache),
    as Keras does, or a path to an ``mnist.npz`` file or to a folder holding it or the
    four IDX files. Nothing is downloaded unless ``download=True`` (then Keras's file is
    fetched into the cache and kept only if its sha256 matches). Offline and absent:
    ``DatasetError`` saying which file to put where."""
    given = Path(path).expanduser()
    if given.is_dir():
        return load(given, download=download, sha256=sha256)[0]
    if given.is_file() and (given.is_absolute() or str(path) != NPZ_NAME):
        if sha256 is not None and sha256_of(given) != check_sha256(sha256):
            raise DatasetError(f"{given} does not have sha256 {sha256}")
        return read_found(Found(given.parent, npz=given), LAYOUT)
    if str(path) != NPZ_NAME:
        for directory in search_dirs():
            if (directory / path).is_file():
                return read_found(Found(directory, npz=directory / path), LAYOUT)
        raise DatasetError(
            f"MNIST file {path} not found in {' or '.join(map(str, search_dirs()))}; "
            f"put Keras's {NPZ_NAME} ({KERAS_URL}) there, or pass its full path"
        )
    return load(download=download, sha256=sha256)[0]
