"""Checking and converting the arrays given to fit, evaluate and predict.

Every check runs before training starts, so bad input never leaves a model
half-trained. Inputs and targets must be finite: NaN or infinity raises ``ValueError``
(Keras would train on them and produce NaN weights).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..losses import Loss

__all__ = ["as_inputs", "as_targets", "check_same_length", "require_finite"]


def _single_array(value: Any, what: str) -> np.ndarray:
    if isinstance(value, dict):
        raise ValueError(f"{what}: a Sequential model takes one array, got a dict")
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], np.ndarray):
        if len(value) != 1:
            raise ValueError(
                f"Error when checking model {what}: the list of NumPy arrays that you are "
                f"passing to your model is not the size the model expected. Expected to "
                f"see 1 array(s), but instead got {len(value)} arrays"
            )
        value = value[0]
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a numeric array: {exc}") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"{what} must be a numeric array, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{what} must have a batch axis, got a scalar")
    return array


def require_finite(array: np.ndarray, what: str) -> None:
    """``ValueError`` naming the first NaN or infinite entry of ``array``."""
    if not np.issubdtype(array.dtype, np.floating):
        return
    # NaN and infinity carry through any sum, so a finite sum clears every entry without
    # a temporary array as large as the data; a sum that is not finite (an entry, or
    # only overflow) is looked at entry by entry.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):
            return
    if not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"{what} contains NaN or infinity ({what}{list(index)} = {array[index]}); "
            "gradstep requires finite inputs and targets"
        )


def as_inputs(
    x: Any, expected: tuple[int | None, ...] | None, dtype: str, input_name: str
) -> np.ndarray:
    """``x`` as a C-contiguous array of ``dtype`` whose shape fits ``expected`` (batch
    axis first, None = any), checked for NaN."""
    array = _single_array(x, "input")
    if expected is not None:
        if array.ndim != len(expected):
            raise ValueError(
                f"Error when checking input: expected {input_name} to have "
                f"{len(expected)} dimensions, but got array with shape {array.shape}"
            )
        for want, got in zip(expected[1:], array.shape[1:]):
            if want is not None and want != got:
                raise ValueError(
                    f"Error when checking input: expected {input_name} to have shape "
                    f"{tuple(expected[1:])} but got array with shape {array.shape[1:]}"
                )
    if len(array) == 0:
        raise ValueError("input has 0 samples; need at least one")
    array = np.ascontiguousarray(array, dtype=dtype)
    require_finite(array, "x")
    return array


def as_targets(
    y: Any,
    loss: Loss,
    output_shape: tuple[int | None, ...],
    dtype: str,
    output_name: str,
) -> np.ndarray:
    """Targets converted for ``loss``: integer labels of shape (N, ...) for sparse losses,
    else an array of ``dtype`` shaped like the output (1-D targets become (N, 1))."""
    array = _single_array(y, "target")
    require_finite(array.astype(np.float64, copy=False), "y")
    classes = output_shape[-1]
    if loss.sparse:
        if array.shape[1:] == tuple(output_shape[1:-1]) + (1,):
            array = array[..., 0]
        if array.shape[1:] != tuple(output_shape[1:-1]):
            raise ValueError(
                f"`{loss.name}` expects integer class labels of shape (samples,) or "
                f"(samples, 1); got targets of shape {array.shape} for an output of shape "
                f"{output_shape}"
            )
        if not np.array_equal(array, np.floor(array)):
            raise ValueError(
                f"`{loss.name}` expects integer class labels; got non-integers"
            )
        low, high = array.min(), array.max()
        if low < 0 or high >= classes:
            raise ValueError(
                f"`{loss.name}` labels must be in [0, {classes - 1}] for an output with "
                f"{classes} classes; got labels from {low} to {high}"
            )
        return array.astype(np.intp)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    expected = tuple(output_shape[1:])
    if (
        loss.name == "categorical_crossentropy"
        and array.shape[-1] == 1
        and classes != 1
    ):
        raise ValueError(
            f"You are passing a target array of shape {array.shape} while using as loss "
            "`categorical_crossentropy`. `categorical_crossentropy` expects targets to be "
            "binary matrices (1s and 0s) of shape (samples, classes). If your targets are "
            "integer classes, convert them with one-hot encoding, or use the loss "
            "`sparse_categorical_crossentropy` instead, which expects integer targets."
        )
    if array.shape[1:] != expected:
        raise ValueError(
            f"A target array with shape {array.shape} was passed for an output of shape "
            f"{output_shape} while using as loss `{loss.name}`. This loss expects targets "
            f"to have the same shape as the output ({output_name})."
        )
    return np.ascontiguousarray(array, dtype=dtype)


def check_same_length(x: np.ndarray, y: np.ndarray) -> None:
    """``ValueError`` unless x and y have as many samples."""
    if len(x) != len(y):
        raise ValueError(
            "Input arrays should have the same number of samples as target arrays. Found "
            f"{len(x)} input samples and {len(y)} target samples."
        )
