"""A data set of the user's own: a ``.npz`` with x_train, y_train, x_test, y_test."""

from __future__ import annotations

import os
from pathlib import Path

from .._npz import read_arrays
from ._arrays import KEYS, Split, check_split
from ._errors import DatasetError

__all__ = ["load_npz"]


def load_npz(path: str | os.PathLike[str]) -> Split:
    """``((x_train, y_train), (x_test, y_test))`` from a ``.npz`` file (as Keras's
    ``mnist.npz``). Never unpickles; memory stays bounded by what the archive's members
    declare; a missing, truncated, damaged or malformed file, or one that is not a
    ``.npz`` at all, raises ``DatasetError`` naming the file and what is wrong."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise DatasetError(f"{path} is not a file")
    arrays = read_arrays(
        path, KEYS, DatasetError, what=f"a .npz archive of {', '.join(KEYS)}"
    )
    return check_split(arrays, str(path))
