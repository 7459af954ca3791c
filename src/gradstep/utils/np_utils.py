"""Keras 2.2's ``keras.utils.np_utils``: ``to_categorical`` and ``normalize``."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_categorical", "normalize"]


def _labels(y: Any) -> np.ndarray:
    try:
        values = np.asarray(y)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"to_categorical: y must be an array of integer class labels ({exc})"
        ) from None
    if values.dtype == bool or values.dtype.kind not in "iuf":
        raise ValueError(
            "to_categorical: y must hold integer class labels (ints, or floats with "
            f"integral values), got dtype {values.dtype}"
        )
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)) or np.any(values != np.floor(values)):
            raise ValueError(
                "to_categorical: y must hold integer class labels; got non-integral "
                "or non-finite floats"
            )
    labels = values.astype(int)
    if labels.size and labels.min() < 0:
        raise ValueError(
            f"to_categorical: class labels must be >= 0, got {int(labels.min())}"
        )
    return labels


def to_categorical(y: Any, num_classes: int | None = None, dtype: Any = "float32"):
    """One-hot encoding of the integer labels ``y``: shape ``y.shape + (num_classes,)``,
    a trailing axis of length 1 dropped first (Keras 2.2.4). ``num_classes`` defaults to
    ``max(y) + 1``; labels must lie in ``[0, num_classes)``."""
    y = _labels(y)
    input_shape = y.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    y = y.ravel()
    if not num_classes:
        if y.size == 0:
            raise ValueError(
                "to_categorical: num_classes is needed when y is empty (it defaults to "
                "max(y) + 1)"
            )
        num_classes = int(np.max(y)) + 1
    elif isinstance(num_classes, (bool, np.bool_)) or not isinstance(
        num_classes, (int, np.integer)
    ):
        raise ValueError(
            f"to_categorical: num_classes must be a positive integer or None, got "
            f"{num_classes!r}"
        )
    num_classes = int(num_classes)
    if y.size and int(y.max()) >= num_classes:
        raise ValueError(
            f"to_categorical: class label {int(y.max())} is out of range for "
            f"num_classes={num_classes} (labels must be in [0, {num_classes}))"
        )
    n = y.shape[0]
    categorical = np.zeros((n, num_classes), dtype=dtype)
    categorical[np.arange(n), y] = 1
    return np.reshape(categorical, input_shape + (num_classes,))


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """``x`` divided by its ``order``-norm along ``axis`` (norms of 0 count as 1)."""
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("normalize: x must have at least one axis, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"normalize: axis {axis} is out of range for an array of {x.ndim} axes"
        )
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)
