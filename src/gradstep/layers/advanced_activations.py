"""Keras 2.2.4's advanced activation layers: ``LeakyReLU``, ``PReLU`` (a trainable
``alpha``), ``ELU``, ``ThresholdedReLU``, ``ReLU`` and ``Softmax``.

Gradients at the kinks follow the backends: 0 at x == 0 for the ReLU family's negative
part, the slope of the side the strict inequality picks otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import constraints, initializers, regularizers
from ._base import LAYERS, Layer, Rngs

__all__ = ["LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "ReLU", "Softmax"]


def _real(value: Any, what: str, low: float = -math.inf) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or value < low
    ):
        raise ValueError(f"{what} must be a finite number >= {low}, got {value!r}")
    return float(value)


class _Elementwise(Layer):
    """y = f(x) with dL/dx = f'(x) * dL/dy; subclasses give ``_f`` and ``_df``."""

    def weight_shapes(self, input_shape):
        return {}

    def forward(self, x, training):
        self._x = x
        return self._f(x)

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        return np.multiply(dy, self._df(self._x), out=dy)


@LAYERS.register("LeakyReLU")
class LeakyReLU(_Elementwise):
    """x for x > 0, alpha * x otherwise."""

    def __init__(self, alpha: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = _real(alpha, "LeakyReLU alpha")

    def _f(self, x):
        return np.where(x > 0, x, self.alpha * x)

    def _df(self, x):
        return np.where(x > 0, 1.0, self.alpha).astype(x.dtype)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


@LAYERS.register("ELU")
class ELU(_Elementwise):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = _real(alpha, "ELU alpha")

    def _f(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def _df(self, x):
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0))).astype(
            x.dtype
        )

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


@LAYERS.register("ThresholdedReLU")
class ThresholdedReLU(_Elementwise):
    """x for x > theta, 0 otherwise."""

    def __init__(self, theta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.theta = _real(theta, "ThresholdedReLU theta", 0.0)

    def _f(self, x):
        return x * (x > self.theta)

    def _df(self, x):
        return (x > self.theta).astype(x.dtype)

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


@LAYERS.register("ReLU")
class ReLU(_Elementwise):
    """Keras 2.2.4's ``K.relu(x, alpha=negative_slope, max_value, threshold)``: x where
    x > threshold (else 0), clipped to [0, max_value] when given, minus
    negative_slope * relu(threshold - x)."""

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_value = (
            None if max_value is None else _real(max_value, "max_value", 0.0)
        )
        self.negative_slope = _real(negative_slope, "negative_slope", 0.0)
        self.threshold = _real(threshold, "threshold")

    def _parts(self, x):
        t = self.threshold
        on = x > t if t != 0 else x > 0
        y = x * on
        grad = on.astype(x.dtype)
        if self.max_value is not None:
            inside = (y >= 0) & (y <= self.max_value)
            y = np.clip(y, 0.0, self.max_value)
            grad = grad * inside
        if self.negative_slope:
            below = (t - x) > 0
            y = y - self.negative_slope * np.maximum(t - x, 0)
            grad = grad + self.negative_slope * below
        return y, grad

    def _f(self, x):
        return self._parts(x)[0].astype(x.dtype, copy=False)

    def _df(self, x):
        return self._parts(x)[1].astype(x.dtype, copy=False)

    def get_config(self):
        config = super().get_config()
        config.update(
            max_value=self.max_value,
            negative_slope=self.negative_slope,
            threshold=self.threshold,
        )
        return config


@LAYERS.register("Softmax")
class Softmax(Layer):
    """Softmax along ``axis`` (default -1)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"Softmax axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def weight_shapes(self, input_shape):
        return {}

    def compute_output_shape(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(
                f"Softmax axis={self.axis} is out of range for inputs of shape "
                f"{input_shape} (not the batch axis)"
            )
        return tuple(input_shape)

    def forward(self, x, training):
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        self._y = e / np.sum(e, axis=self.axis, keepdims=True)
        return self._y

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        y = self._y
        return y * (dy - np.sum(dy * y, axis=self.axis, keepdims=True))

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


@LAYERS.register("PReLU")
class PReLU(Layer):
    """x for x > 0, -alpha * relu(-x) otherwise, with a trainable ``alpha`` per
    position (shared along ``shared_axes``, 1-based as in Keras)."""

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes: list[int] | None = None
        else:
            items = (
                list(shared_axes)
                if isinstance(shared_axes, (list, tuple))
                else [shared_axes]
            )
            for a in items:
                if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or a < 1:
                    raise ValueError(
                        f"PReLU shared_axes must be axes >= 1, got {shared_axes!r}"
                    )
            self.shared_axes = [int(a) for a in items]
        if self.alpha_constraint is not None:
            self.constraints = {"alpha": self.alpha_constraint}

    def _alpha_shape(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            if a > len(shape):
                raise ValueError(
                    f"PReLU shared axis {a} is out of range for input shape {input_shape}"
                )
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(
                f"PReLU needs a fully defined input shape (or shared_axes), got "
                f"{input_shape}"
            )
        return tuple(shape)

    def weight_shapes(self, input_shape):
        return {"alpha": self._alpha_shape(input_shape)}

    def build_weights(self, input_shape, rngs: Rngs):
        shape = self._alpha_shape(input_shape)
        return {"alpha": self.alpha_initializer(shape, self.dtype, rngs.init)}

    def forward(self, x, training):
        self._x = x
        neg = np.minimum(x, 0)
        return np.maximum(x, 0) + self.alpha * neg

    def backward(self, dy, need_dx, activated=True):
        x = self._x
        neg = np.minimum(x, 0)
        g = dy * neg
        axes = tuple(i for i in range(g.ndim) if i == 0 or self.alpha.shape[i - 1] == 1)
        np.copyto(
            self.alpha_grad,
            np.sum(g, axis=axes, keepdims=True).reshape(self.alpha.shape),
        )
        if self.alpha_regularizer is not None:
            self.alpha_regularizer.add_gradient(self.alpha, self.alpha_grad)
        if not need_dx:
            return None
        return dy * np.where(x > 0, 1.0, np.where(x < 0, self.alpha, 0.0))

    def penalty(self):
        if self.alpha_regularizer is None:
            return 0.0
        return self.alpha_regularizer.penalty(self.alpha)

    def get_config(self):
        config = super().get_config()
        config.update(
            alpha_initializer=initializers.serialize(self.alpha_initializer),
            alpha_regularizer=regularizers.serialize(self.alpha_regularizer),
            alpha_constraint=constraints.serialize(self.alpha_constraint),
            shared_axes=self.shared_axes,
        )
        return config
