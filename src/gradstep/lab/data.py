"""Data sets prepared for the lab's MLP: flat float features in [0, 1], one-hot labels."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import DatasetError, digits, fashion_mnist, mnist
from ..datasets._download import sha256_of
from ..datasets.npz import load_npz
from ._errors import LabError

__all__ = ["LabData", "load_lab_data", "KNOWN_DATASETS"]

KNOWN_DATASETS = ("digits", "mnist", "fashion-mnist")


@dataclass
class LabData:
    """Training and test arrays plus a description for the run record."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int:
        return int(self.y_train.shape[1])


def _flatten_scale(
    x: np.ndarray, scale: float | None, dtype: str, where: str
) -> np.ndarray:
    """``x`` as (samples, features) of ``dtype``, divided by ``scale``; ``LabError``
    when a value does not fit ``dtype`` (a float64 beyond float32's range)."""
    flat = x.reshape(len(x), -1)
    if scale is None:
        scale = 255.0 if x.dtype == np.uint8 else 1.0
    with np.errstate(over="ignore"):
        out = (flat.astype(np.float64) / scale).astype(dtype)
    if not np.all(np.isfinite(out)):
        raise LabError(
            f"{where} has values too large for {dtype} (the largest magnitude is "
            f"{np.abs(flat).max():g}); rescale the data or use --dtype float64"
        )
    return out


def _one_hot(y: np.ndarray, classes: int, dtype: str) -> np.ndarray:
    if y.ndim == 2:
        return y.astype(dtype)
    out = np.zeros((len(y), classes), dtype=dtype)
    out[np.arange(len(y)), y.astype(np.int64)] = 1
    return out


MAX_ONE_HOT_BYTES = 1 << 30
"""The most bytes the one-hot label matrices may take (Fashion-MNIST's take 2.8 MB)."""


def _check_one_hot_size(name: str, samples: int, classes: int, dtype: str) -> None:
    """``LabError`` before allocating when ``samples`` one-hot rows of ``classes``
    columns exceed ``MAX_ONE_HOT_BYTES``: one label of 65535 in a file of a few KB would
    otherwise make gigabytes of zeros."""
    nbytes = samples * classes * np.dtype(dtype).itemsize
    if nbytes > MAX_ONE_HOT_BYTES:
        raise LabError(
            f"{name}: its largest label, {classes - 1}, means {classes} classes; "
            f"{samples} one-hot rows of them take {nbytes} bytes, more than the "
            f"{MAX_ONE_HOT_BYTES} allowed; labels must be 0 .. number of classes - 1 "
            "(or use --limit-train/--limit-test)"
        )


def _limit(n: int | None, what: str, available: int) -> int:
    if n is None:
        return available
    if n < 1:
        raise LabError(f"--limit-{what} must be >= 1, got {n}")
    return min(n, available)


def load_lab_data(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    url: str | None = None,
    sha256: str | None = None,
    limit_train: int | None = None,
    limit_test: int | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int | None], None] | None = None,
) -> LabData:
    """``digits``, ``mnist``, ``fashion-mnist`` or a path to a ``.npz`` with
    x_train/y_train/x_test/y_test; ``LabError`` for an unknown name or missing/bad files.
    ``limit_*`` keep the first samples (for quick runs). The record's name is the data's
    true one: Fashion-MNIST files (known by their sha256) found for ``mnist`` are named
    ``fashion-mnist``; every input file's sha256 is recorded."""
    if (url or sha256) and name != "mnist":
        raise LabError("--download-url and --sha256 apply to --dataset mnist")
    if download and name not in ("mnist", "fashion-mnist"):
        raise LabError("--download applies to --dataset mnist and fashion-mnist")
    info: dict[str, Any] = {"name": name}
    scale: float | None = None
    try:
        if name == "digits":
            (x, y), (xt, yt) = digits.load_data()
            scale = 16.0
            info["source"] = (
                "scikit-learn load_digits; every 5th sample is a test sample"
            )
        elif name == "mnist":
            kwargs: dict[str, Any] = {"download": download, "sha256": sha256}
            if url is not None:
                kwargs["url"] = url
            ((x, y), (xt, yt)), found = mnist.load(
                data_dir, progress=progress, **kwargs
            )
            info["source"] = [str(p) for p in found.paths()]
            info["sha256"] = found.sha256()
            if fashion_mnist.is_fashion(found):
                name = "fashion-mnist"
                info["name"] = name
                info["note"] = (
                    "asked for mnist, but these files are Fashion-MNIST (by sha256)"
                )
        elif name == "fashion-mnist":
            ((x, y), (xt, yt)), found = fashion_mnist.load(
                data_dir, download=download, progress=progress
            )
            info["source"] = [str(p) for p in found.paths()]
            info["sha256"] = found.sha256()
            info["classes_named"] = list(fashion_mnist.CLASS_NAMES)
        elif name.lower().endswith(".npz") or Path(name).exists():
            (x, y), (xt, yt) = load_npz(name)
            info["source"] = str(Path(name).resolve())
            info["sha256"] = {str(Path(name).resolve()): sha256_of(name)}
        else:
            raise LabError(
                f"unknown dataset {name!r}; known datasets: {', '.join(KNOWN_DATASETS)}, "
                "or a path to a .npz file with x_train, y_train, x_test, y_test"
            )
    except DatasetError as exc:
        raise LabError(str(exc)) from None
    n_train = _limit(limit_train, "train", len(x))
    n_test = _limit(limit_test, "test", len(xt))
    x, y, xt, yt = x[:n_train], y[:n_train], xt[:n_test], yt[:n_test]
    if y.ndim == 1:
        classes = int(max(y.max(), yt.max())) + 1
    else:
        classes = y.shape[1]
        if yt.shape[1] != classes:
            raise LabError(
                f"{name}: y_train has {classes} columns, y_test {yt.shape[1]}"
            )
    if classes < 2:
        raise LabError(f"{name}: needs at least two classes, found {classes}")
    if y.ndim == 1:  # one-hot files already hold their matrices
        _check_one_hot_size(name, len(y) + len(yt), classes, dtype)
    data = LabData(
        name=Path(name).name if name not in KNOWN_DATASETS else name,
        x_train=_flatten_scale(x, scale, dtype, f"{name}: x_train"),
        y_train=_one_hot(y, classes, dtype),
        x_test=_flatten_scale(xt, scale, dtype, f"{name}: x_test"),
        y_test=_one_hot(yt, classes, dtype),
        info=info,
    )
    info.update(
        train_samples=len(data.x_train),
        test_samples=len(data.x_test),
        features=data.input_dim,
        classes=classes,
        scaling=f"divided by {scale:g}"
        if scale
        else "uint8 divided by 255, else as is",
        dtype=dtype,
    )
    return data
