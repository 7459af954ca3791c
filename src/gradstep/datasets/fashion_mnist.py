"""Fashion-MNIST (Zalando's 70,000 28x28 clothing images, 10 classes) from local files:
Keras's cache, Debian's ``dataset-fashion-mnist`` package, a folder of one's own, or a
sha256-verified download when asked; never a silent network access.

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
from ._errors import DatasetError
from ._idxset import (
    IDX_NAMES,
    Found,
    Layout,
    check_images,
    download_idx,
    find,
    read_found,
)

__all__ = [
    "KERAS_BASE_URL",
    "SHA256",
    "DEBIAN_DIR",
    "CLASS_NAMES",
    "search_dirs",
    "find_files",
    "load",
    "load_data",
]

KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"
    ),
    "train-labels-idx1-ubyte.gz": (
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"
    ),
}
"""The sha256 of Zalando's gzipped files (as Keras and Debian's package ship them)."""

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def search_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """``[data_dir]`` when given, else Keras's ``~/.keras/datasets/fashion-mnist``,
    Debian's ``/usr/share/datasets/fashion-mnist`` and gradstep's cache."""
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    return [
        keras_datasets_dir() / "fashion-mnist",
        DEBIAN_DIR,
        cache_dir() / "fashion-mnist",
    ]


def _check(split: Split, source: str) -> Split:
    return check_images(split, source, "Fashion-MNIST")


LAYOUT = Layout("Fashion-MNIST", None, search_dirs, _check, SHA256)


def find_files(data_dir: str | os.PathLike[str] | None = None) -> Found | None:
    """The first directory of ``search_dirs(data_dir)`` holding the four files, or None."""
    return find(search_dirs(data_dir), LAYOUT)


def is_fashion(found: Found) -> bool:
    """Whether ``found`` is four IDX files with Fashion-MNIST's published digests."""
    if found.idx is None:
        return False
    digests = {Path(p).name: d for p, d in found.sha256().items()}
    return all(digests.get(name) == digest for name, digest in SHA256.items())


def not_found_message(data_dir: str | os.PathLike[str] | None) -> str:
    """The one-line instruction of where to put which file."""
    names = ", ".join(name + ".gz" for name in IDX_NAMES.values())
    where = " or ".join(str(d) for d in search_dirs(data_dir))
    hint = (
        ""
        if data_dir is not None
        else (
            " (on Debian or Ubuntu: apt-get install dataset-fashion-mnist), or pass "
            "--data-dir DIR"
        )
    )
    return (
        f"Fashion-MNIST not found: put the four files {names} ({KERAS_BASE_URL}) in "
        f"{where}{hint}; or use --download to fetch them (sha256-verified)"
    )


def load(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[Split, Found]:
    """Fashion-MNIST and where it came from. Looks in ``data_dir`` if given, else the
    folders of ``search_dirs()``; with ``download=True`` and nothing found, fetches the
    four files into ``data_dir`` (or gradstep's cache), each kept only if its sha256 is
    the published one. ``DatasetError`` with instructions when the data is missing."""
    found = find_files(data_dir)
    if found is None:
        if not download:
            raise DatasetError(not_found_message(data_dir))
        target = search_dirs(data_dir)[-1]
        found = download_idx(KERAS_BASE_URL, target, SHA256, progress)
    return read_found(found, LAYOUT), found


def load_data(
    path: str | os.PathLike[str] | None = None, *, download: bool = False
) -> Split:
    """Keras's ``fashion_mnist.load_data()``: ``(x_train, y_train), (x_test, y_test)``
    as uint8 arrays (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).

    Reads ``~/.keras/datasets/fashion-mnist/`` (Keras's cache), then Debian's
    ``/usr/share/datasets/fashion-mnist/``, then gradstep's cache, or only ``path`` (a
    folder) when given. Nothing is downloaded unless ``download=True``. Offline and
    absent: ``DatasetError`` saying which files to put where."""
    if path is not None and not Path(path).expanduser().is_dir():
        raise DatasetError(
            f"{path} is not a folder; pass the folder holding the four Fashion-MNIST "
            "IDX files"
        )
    return load(path, download=download)[0]
