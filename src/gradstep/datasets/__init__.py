"""Data sets for the optimizer lab and Keras scripts: the embedded digits, MNIST,
Fashion-MNIST, CIFAR-10 and Boston Housing from local files or a verified download, and
``.npz`` files of the user's own.

Every loader returns ``((x_train, y_train), (x_test, y_test))`` as Keras's ``load_data``
does and raises ``DatasetError`` with a one-line explanation when data is missing or bad.
"""

from __future__ import annotations

from . import boston_housing, cifar10, digits, fashion_mnist, mnist
from ._cache import cache_dir, keras_datasets_dir
from ._download import download, sha256_of
from ._errors import DatasetError
from ._idx import read_idx, write_idx
from .npz import load_npz

__all__ = [
    "DatasetError",
    "cache_dir",
    "keras_datasets_dir",
    "digits",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "boston_housing",
    "download",
    "sha256_of",
    "read_idx",
    "write_idx",
    "load_npz",
]
