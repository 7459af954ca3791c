"""The Boston Housing regression data (506 samples, 13 features), as Keras 2.2.4's
``keras.datasets.boston_housing`` gives it: Keras's ``boston_housing.npz`` from
Keras's cache (``~/.keras/datasets/``), a folder of one's own, or a sha256-verified
download when asked; never a silent network access.

``load_data(path='boston_housing.npz', test_split=0.2, seed=113)`` is Keras's: the
samples shuffled with ``np.random.seed(seed)`` (NumPy's global generator, which Keras
leaves seeded), then split; float64 ``(x_train, y_train), (x_test, y_test)`` of shapes
(404, 13), (404,), (102, 13), (102,).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._npz import read_arrays
from ._cache import cache_dir, keras_datasets_dir
from ._download import download as fetch
from ._errors import DatasetError

__all__ = ["ORIGIN", "SHA256", "load_data"]

ORIGIN = "https://s3.amazonaws.com/keras-datasets/boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
_MAX_BYTES = 1 << 20  # the file is 57 KB


def _find(path: str | os.PathLike[str]) -> Path | None:
    given = Path(path).expanduser()
    if given.is_absolute() or given.parent != Path("."):
        return given if given.is_file() else None
    for folder in (keras_datasets_dir(), cache_dir()):
        if (folder / given).is_file():
            return folder / given
    return None


def _checked(
    found: Path, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (n, 13) and ``y`` (n,) of finite real numbers; ``DatasetError`` naming the
    file and the array otherwise."""
    if x.ndim != 2 or x.shape[1] != 13 or y.ndim != 1 or len(x) != len(y):
        raise DatasetError(
            f"{found}: x has shape {x.shape} and y {y.shape}; expected (n, 13) and (n,)"
        )
    for key, value in (("x", x), ("y", y)):
        if value.dtype.kind not in "biuf":
            raise DatasetError(
                f"{found}: {key} has dtype {value.dtype}; expected real numbers"
            )
        if not np.all(np.isfinite(value)):
            raise DatasetError(f"{found}: {key} contains NaN or infinite values")
    return x, y


def load_data(
    path: str | os.PathLike[str] = "boston_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
    *,
    download: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Keras 2.2.4's split of the data (see the module docstring). ``path``: a file
    name looked up in Keras's cache and gradstep's, or a path; ``download=True``
    fetches it into gradstep's cache when it is nowhere (sha256-verified)."""
    if (
        isinstance(test_split, bool)
        or not isinstance(test_split, (int, float))
        or not 0 <= test_split < 1
    ):
        raise ValueError(f"test_split must be a number in [0, 1), got {test_split!r}")
    found = _find(path)
    if found is None:
        if not download:
            raise DatasetError(
                f"Boston Housing not found: put {Path(path).name} ({ORIGIN}) in "
                f"{keras_datasets_dir()} or {cache_dir()}, or pass "
                "download=True to fetch it (sha256-verified)"
            )
        found = fetch(ORIGIN, cache_dir() / Path(path).name, SHA256)
    arrays = read_arrays(
        found, ["x", "y"], DatasetError, what="Boston Housing", max_bytes=_MAX_BYTES
    )
    x, y = _checked(found, arrays["x"], arrays["y"])
    np.random.seed(seed)
    indices = np.arange(len(x))
    np.random.shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (
        np.array(x[cut:]),
        np.array(y[cut:]),
    )
