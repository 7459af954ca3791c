"""A data set of the user's own: a ``.npz`` with x_train, y_train, x_test, y_test."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from ._arrays import KEYS, Split, check_split
from ._errors import DatasetError

__all__ = ["load_npz"]


def load_npz(path: str | os.PathLike[str]) -> Split:
    """``((x_train, y_train), (x_test, y_test))`` from a ``.npz`` file (as Keras's
    ``mnist.npz``). Never unpickles; a missing, truncated or malformed file raises
    ``DatasetError`` saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} does not exist or is not a file")
    arrays: dict[str, np.ndarray] = {}
    try:
        # np.load is given an open handle so a corrupt archive cannot leak the file.
        with open(path, "rb") as handle:
            data = np.load(handle, allow_pickle=False)
            if not hasattr(data, "files"):
                raise DatasetError(
                    f"{path} is a .npy array, not a .npz archive of {KEYS}"
                )
            with data:
                missing = [key for key in KEYS if key not in data.files]
                if missing:
                    raise DatasetError(
                        f"{path} lacks {', '.join(missing)}; a data set .npz needs the "
                        f"arrays {', '.join(KEYS)} (it has {', '.join(data.files) or 'none'})"
                    )
                for key in KEYS:
                    arrays[key] = data[key]
    except DatasetError:
        raise
    except (zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"{path} is truncated or corrupt ({exc})") from None
    except ValueError as exc:
        raise DatasetError(
            f"{path} cannot be read without pickle or is malformed ({exc})"
        ) from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    return check_split(arrays, str(path))
