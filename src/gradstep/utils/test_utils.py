"""Keras 2.2's ``keras.utils.test_utils``: ``get_test_data`` and the ``keras_test``
decorator (Keras's own tests import both)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .. import backend

__all__ = ["get_test_data", "keras_test"]

_F = TypeVar("_F", bound=Callable[..., Any])


def keras_test(func: _F) -> _F:
    """Run ``func``, then ``backend.clear_session()`` (as Keras's decorator does)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        output = func(*args, **kwargs)
        backend.clear_session()
        return output

    return wrapper  # type: ignore[return-value]


def get_test_data(
    num_train: int = 1000,
    num_test: int = 500,
    input_shape: tuple[int, ...] = (10,),
    output_shape: tuple[int, ...] = (2,),
    classification: bool = True,
    num_classes: int = 2,
):
    """``(x_train, y_train), (x_test, y_test)`` drawn from NumPy's global generator in
    Keras 2.2.4's order (so ``np.random.seed(s)`` gives Keras's very arrays).

    Classification: integer labels in [0, num_classes), inputs normal around the label
    (scale 0.7); ``output_shape`` is ignored. Otherwise float inputs and targets, both
    normal around a uniform location per sample."""
    for name, value in (("num_train", num_train), ("num_test", num_test)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < 0
        ):
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if classification and (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or num_classes < 1
    ):
        raise ValueError(f"num_classes must be an integer >= 1, got {num_classes!r}")
    input_shape, output_shape = tuple(input_shape), tuple(output_shape)
    samples = num_train + num_test
    if classification:
        y = np.random.randint(0, num_classes, size=(samples,))
        x = np.zeros((samples,) + input_shape, dtype=np.float32)
        for i in range(samples):
            x[i] = np.random.normal(loc=y[i], scale=0.7, size=input_shape)
    else:
        y_loc = np.random.random((samples,))
        x = np.zeros((samples,) + input_shape, dtype=np.float32)
        y = np.zeros((samples,) + output_shape, dtype=np.float32)
        for i in range(samples):
            x[i] = np.random.normal(loc=y_loc[i], scale=0.7, size=input_shape)
            y[i] = np.random.normal(loc=y_loc[i], scale=0.7, size=output_shape)
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])
