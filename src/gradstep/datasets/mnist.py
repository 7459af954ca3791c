"""MNIST from local files (Keras's ``mnist.npz`` or the four IDX files) or a verified
download; never a silent network access."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._arrays import Split, check_split
from ._cache import cache_dir, keras_datasets_dir
from ._download import check_sha256, sha256_of
from ._download import download as download_file
from ._errors import DatasetError
from ._idx import read_idx
from .npz import load_npz

__all__ = [
    "KERAS_URL",
    "KERAS_SHA256",
    "NPZ_NAME",
    "IDX_NAMES",
    "MnistFiles",
    "search_dirs",
    "find_files",
    "load_data",
]

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_NAME = "mnist.npz"
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class MnistFiles:
    """Where MNIST was found: one ``npz`` file or four IDX files (key -> path)."""

    directory: Path
    npz: Path | None = None
    idx: dict[str, Path] | None = None

    def paths(self) -> list[Path]:
        """The files, in a stable order."""
        return [self.npz] if self.npz else [self.idx[key] for key in IDX_NAMES]  # type: ignore[index]


def search_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """``[data_dir]`` when given, else ``~/.keras/datasets`` then gradstep's cache."""
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    return [keras_datasets_dir(), cache_dir()]


def _idx_candidates(name: str) -> list[str]:
    dotted = name.replace("-idx", ".idx")  # train-images.idx3-ubyte, as often unpacked
    return [name, name + ".gz", dotted, dotted + ".gz"]


def _find_in(directory: Path) -> MnistFiles | None:
    npz = directory / NPZ_NAME
    if npz.is_file():
        return MnistFiles(directory, npz=npz)
    found: dict[str, Path] = {}
    for key, name in IDX_NAMES.items():
        for candidate in _idx_candidates(name):
            if (directory / candidate).is_file():
                found[key] = directory / candidate
                break
    if not found:
        return None
    if len(found) < len(IDX_NAMES):
        missing = [IDX_NAMES[key] for key in IDX_NAMES if key not in found]
        raise DatasetError(
            f"{directory} has only some of the MNIST IDX files: missing "
            f"{', '.join(missing)} (gzipped or not); put all four there"
        )
    return MnistFiles(directory, idx=found)


def find_files(data_dir: str | os.PathLike[str] | None = None) -> MnistFiles | None:
    """The first directory of ``search_dirs(data_dir)`` holding MNIST, or None."""
    for directory in search_dirs(data_dir):
        if directory.is_dir():
            found = _find_in(directory)
            if found is not None:
                return found
    return None


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


def _check_mnist(split: Split, source: str) -> Split:
    for (x, y), part in zip(split, ("train", "test")):
        if x.shape[1:] != (28, 28):
            raise DatasetError(
                f"{source}: x_{part} has shape {x.shape}; MNIST images are (n, 28, 28)"
            )
        if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() > 9)):
            raise DatasetError(
                f"{source}: y_{part} must hold labels 0..9, one per image"
            )
    return split


def _load_found(found: MnistFiles) -> Split:
    if found.npz is not None:
        return _check_mnist(load_npz(found.npz), str(found.npz))
    assert found.idx is not None
    arrays = {key: read_idx(path) for key, path in found.idx.items()}
    return _check_mnist(check_split(arrays, str(found.directory)), str(found.directory))


def load_data(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    url: str = KERAS_URL,
    sha256: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[Split, MnistFiles]:
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
        found = MnistFiles(target.parent, npz=target)
    return _load_found(found), found
