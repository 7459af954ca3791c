"""Checks shared by the loaders: four arrays that make a classification data set."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._errors import DatasetError

__all__ = ["KEYS", "MAX_CLASSES", "check_split"]

KEYS = ("x_train", "y_train", "x_test", "y_test")
MAX_CLASSES = 1 << 16
"""The largest number of classes a label array may imply (labels 0 .. MAX_CLASSES-1)."""

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _check_one_hot(y: np.ndarray, where: str) -> None:
    """One-hot (or soft) label rows: every value finite and in [0, 1]."""
    if not np.all(np.isfinite(y)):
        raise DatasetError(f"{where} contains NaN or infinite values")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise DatasetError(
            f"{where} holds one-hot rows with values outside [0, 1] "
            f"(from {y.min():g} to {y.max():g}); expected 0s and 1s"
        )


def check_split(arrays: Mapping[str, np.ndarray], source: str) -> Split:
    """``((x_train, y_train), (x_test, y_test))`` after checking that each x has samples on
    its first axis, numbers inside, and an integer label per sample (>= 0), or one-hot
    rows; ``DatasetError`` naming ``source`` and the array otherwise."""
    for key in KEYS:
        value = arrays[key]
        if value.dtype.kind not in "biuf":
            raise DatasetError(
                f"{source}: {key} has dtype {value.dtype}; expected real numbers "
                "(bool, integer or float)"
            )
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim < 2 or x.shape[0] == 0:
            raise DatasetError(
                f"{source}: x_{part} has shape {x.shape}; expected (samples, features...)"
                " with at least one sample"
            )
        if y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
            raise DatasetError(
                f"{source}: y_{part} has shape {y.shape} but x_{part} has {x.shape[0]} "
                "samples; expected one label per sample"
            )
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"{source}: x_{part} contains NaN or infinite values")
        if y.ndim == 1:
            if not np.issubdtype(y.dtype, np.integer) and not np.all(y == np.round(y)):
                raise DatasetError(f"{source}: y_{part} holds non-integer class labels")
            if y.min() < 0:
                raise DatasetError(f"{source}: y_{part} has negative class labels")
            if y.max() >= MAX_CLASSES:
                raise DatasetError(
                    f"{source}: y_{part} has the class label {y.max():.0f}; labels must "
                    f"be below {MAX_CLASSES} (0 .. number of classes - 1)"
                )
        elif y.shape[1] > MAX_CLASSES:
            raise DatasetError(
                f"{source}: y_{part} has {y.shape[1]} one-hot columns; at most "
                f"{MAX_CLASSES} classes are supported"
            )
        else:
            _check_one_hot(y, f"{source}: y_{part}")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DatasetError(
            f"{source}: x_train samples have shape {arrays['x_train'].shape[1:]} but x_test "
            f"samples have {arrays['x_test'].shape[1:]}; they must match"
        )
    if arrays["y_train"].ndim != arrays["y_test"].ndim:
        raise DatasetError(
            f"{source}: y_train and y_test must both be labels or one-hot"
        )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
