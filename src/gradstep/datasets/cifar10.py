"""CIFAR-10 (60,000 32x32 colour images, 10 classes) as Keras 2.2.4's
``keras.datasets.cifar10`` gives it, read from the dataset authors' binary version
(``cifar-10-batches-bin``: one label byte and 3,072 pixel bytes per image).

Keras itself downloads the Python version, whose batches are pickles; gradstep never
unpickles, so it reads the binary files instead: in ``data_dir``, Keras's cache
(``~/.keras/datasets/cifar-10-batches-bin``) or gradstep's, or fetched (sha256-verified)
and unpacked into gradstep's cache with ``download=True``.

``load_data()`` returns uint8 ``(x_train, y_train), (x_test, y_test)`` of shapes
(50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1) (channels first, as
Keras, when ``backend.image_data_format()`` is 'channels_first').
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from .. import backend
from .._io import write_bytes_atomic
from ._cache import cache_dir, keras_datasets_dir
from ._download import download as fetch
from ._errors import DatasetError

__all__ = ["ARCHIVE", "FOLDER", "ORIGIN", "SHA256", "load_data", "read_batch"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
ARCHIVE = "cifar-10-binary.tar.gz"
SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
FOLDER = "cifar-10-batches-bin"
_TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]
_TEST = "test_batch.bin"
_RECORD = 1 + 3 * 32 * 32
_PER_BATCH = 10_000


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch: images (10000, 3, 32, 32) and labels (10000,), uint8; its
    size is checked before it is read."""
    size = path.stat().st_size
    if size != _RECORD * _PER_BATCH:
        raise DatasetError(
            f"{path} holds {size} bytes; a CIFAR-10 batch holds {_PER_BATCH} records "
            f"of {_RECORD} bytes ({_RECORD * _PER_BATCH})"
        )
    records = np.fromfile(path, dtype=np.uint8).reshape(_PER_BATCH, _RECORD)
    labels = records[:, 0].copy()
    if labels.max() > 9:
        raise DatasetError(f"{path}: a label is {int(labels.max())}; expected 0 to 9")
    return records[:, 1:].reshape(_PER_BATCH, 3, 32, 32), labels


def _folders(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    if data_dir is not None:
        given = Path(data_dir).expanduser()
        return [given, given / FOLDER]
    return [keras_datasets_dir() / FOLDER, cache_dir() / FOLDER]


def _find(data_dir: str | os.PathLike[str] | None) -> Path | None:
    for folder in _folders(data_dir):
        if all((folder / name).is_file() for name in (*_TRAIN, _TEST)):
            return folder
    return None


def _unpack(archive: Path, target: Path) -> None:
    """The batches of the authors' archive, and nothing else, into ``target``."""
    wanted = {f"{FOLDER}/{name}" for name in (*_TRAIN, _TEST)}
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name not in wanted:
                    continue
                if not member.isfile() or member.size != _RECORD * _PER_BATCH:
                    raise DatasetError(f"{archive}: {member.name} is not a batch file")
                source = tar.extractfile(member)
                assert source is not None
                # Atomic: a kill or a full disk never leaves a short batch file.
                write_bytes_atomic(target / Path(member.name).name, source.read())
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DatasetError(f"{archive} is truncated or corrupt ({exc})") from None


def _not_found(data_dir: str | os.PathLike[str] | None) -> str:
    where = " or ".join(str(f) for f in _folders(data_dir))
    pickled = keras_datasets_dir() / "cifar-10-batches-py"
    note = (
        f" ({pickled} holds Keras's pickled batches, which gradstep does not read: "
        "no pickle)"
        if pickled.is_dir()
        else ""
    )
    return (
        f"CIFAR-10 not found: put {', '.join(_TRAIN)} and {_TEST} (from {ORIGIN}) in "
        f"{where}{note}, or pass download=True to fetch them (sha256-verified)"
    )


def load_data(
    data_dir: str | os.PathLike[str] | None = None, *, download: bool = False
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Keras 2.2.4's CIFAR-10 arrays (see the module docstring)."""
    folder = _find(data_dir)
    if folder is None:
        if not download:
            raise DatasetError(_not_found(data_dir))
        archive = fetch(ORIGIN, cache_dir() / ARCHIVE, SHA256)
        _unpack(archive, cache_dir() / FOLDER)
        folder = cache_dir() / FOLDER
    x_train = np.empty((5 * _PER_BATCH, 3, 32, 32), dtype=np.uint8)
    y_train = np.empty((5 * _PER_BATCH,), dtype=np.uint8)
    for i, name in enumerate(_TRAIN):
        part = slice(i * _PER_BATCH, (i + 1) * _PER_BATCH)
        x_train[part], y_train[part] = read_batch(folder / name)
    x_test, y_test = read_batch(folder / _TEST)
    y_train = y_train.reshape(len(y_train), 1)
    y_test = y_test.reshape(len(y_test), 1)
    if backend.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
