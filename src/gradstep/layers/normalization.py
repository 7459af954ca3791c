"""Keras 2.2.4's ``BatchNormalization`` with its Theano backend's numbers.

Training (``fit``, ``train_on_batch``): the batch is normalized with its own mean and
biased variance ``var`` over every axis but ``axis``,
``(x - mean) * (gamma * invstd) + beta`` with ``invstd = 1 / sqrt(var + epsilon)``, and
the moving statistics are updated in the forward pass (not by the optimizer):
``moving = moving * momentum + value * (1 - momentum)``, where the value for the
variance is what Keras-Theano uses: ``1 / invstd**2`` (that is ``var + epsilon``) times
``n / (n - (1 + epsilon))`` with ``n`` the number of values per feature. Inference
(``predict``, ``evaluate``, validation) uses the moving statistics:
``(x - moving_mean) * (gamma / sqrt(moving_variance + epsilon)) + beta``. A layer that
does not train (``trainable = False``, or inside a frozen model) still normalizes with
the batch statistics in training but keeps its moving statistics, as Keras 2.2.4.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import constraints, initializers, regularizers
from ._base import LAYERS, Layer, Rngs

__all__ = ["BatchNormalization"]


def _fraction(value: Any, what: str, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ValueError(f"{what} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


@LAYERS.register("BatchNormalization")
class BatchNormalization(Layer):
    """Normalizes each feature along ``axis`` (see the module docstring)."""

    non_trainable_names = ("moving_mean", "moving_variance")
    uses_learning_phase = True

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(
                f"BatchNormalization axis must be an integer, got {axis!r}"
            )
        self.axis = int(axis)
        self.momentum = _fraction(momentum, "BatchNormalization momentum", 0.0, 1.0)
        self.epsilon = _fraction(epsilon, "BatchNormalization epsilon", 1e-5, math.inf)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.constraints = {
            name: c
            for name, c, on in (
                ("gamma", self.gamma_constraint, self.scale),
                ("beta", self.beta_constraint, self.center),
            )
            if c is not None and on
        }
        self.updates_enabled = True
        self._training = False

    def _axis(self, ndim: int) -> int:
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 1 <= axis < ndim:
            raise ValueError(
                f"BatchNormalization axis={self.axis} is out of range for inputs of "
                f"{ndim} dimensions (not the batch axis)"
            )
        return axis

    def _dim(self, input_shape) -> int:
        dim = input_shape[self._axis(len(input_shape))]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but "
                f"the layer received an input with shape {input_shape}."
            )
        return int(dim)

    def weight_shapes(self, input_shape):
        shape = (self._dim(input_shape),)
        shapes = {}
        if self.scale:
            shapes["gamma"] = shape
        if self.center:
            shapes["beta"] = shape
        shapes["moving_mean"] = shape
        shapes["moving_variance"] = shape
        return shapes

    def build_weights(self, input_shape, rngs: Rngs):
        shape = (self._dim(input_shape),)
        out = {}
        if self.scale:
            out["gamma"] = self.gamma_initializer(shape, self.dtype, rngs.init)
        if self.center:
            out["beta"] = self.beta_initializer(shape, self.dtype, rngs.init)
        out["moving_mean"] = self.moving_mean_initializer(shape, self.dtype, rngs.init)
        out["moving_variance"] = self.moving_variance_initializer(
            shape, self.dtype, rngs.init
        )
        return out

    def _shape_for(self, x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
        axis = self._axis(x.ndim)
        reduce = tuple(i for i in range(x.ndim) if i != axis)
        broadcast = tuple(x.shape[i] if i == axis else 1 for i in range(x.ndim))
        return reduce, broadcast

    def _gamma_beta(self, broadcast, dtype):
        gamma = (
            self.gamma.reshape(broadcast) if self.scale else np.ones(broadcast, dtype)
        )
        beta = (
            self.beta.reshape(broadcast) if self.center else np.zeros(broadcast, dtype)
        )
        return gamma, beta

    def forward(self, x, training):
        reduce, broadcast = self._shape_for(x)
        gamma, beta = self._gamma_beta(broadcast, x.dtype)
        self._training = bool(training)
        if not training:
            mean = self.moving_mean.reshape(broadcast)
            var = self.moving_variance.reshape(broadcast)
            self._factor = gamma / np.sqrt(var + self.epsilon)
            self._xhat = (x - mean) / np.sqrt(var + self.epsilon)
            self._reduce = reduce
            return (x - mean) * self._factor + beta
        mean = np.mean(x, axis=reduce, keepdims=True)
        var = np.var(x, axis=reduce, keepdims=True)
        invstd = 1.0 / np.sqrt(var + self.epsilon)
        self._xhat = (x - mean) * invstd
        self._invstd, self._gamma_b = invstd, gamma
        self._reduce = reduce
        out = (x - mean) * (gamma * invstd) + beta
        if self.updates_enabled and self.trainable:
            n = x.size // x.shape[self._axis(x.ndim)]
            variance = (1.0 / invstd**2) * (n / (n - (1.0 + self.epsilon)))
            m = self.momentum
            self.moving_mean[...] = self.moving_mean * m + mean.reshape(-1) * (1.0 - m)
            self.moving_variance[...] = self.moving_variance * m + variance.reshape(
                -1
            ) * (1.0 - m)
        return out

    def backward(self, dy, need_dx, activated=True):
        reduce, xhat = self._reduce, self._xhat
        if self.scale:
            np.copyto(self.gamma_grad, np.sum(dy * xhat, axis=reduce))
            if self.gamma_regularizer is not None:
                self.gamma_regularizer.add_gradient(self.gamma, self.gamma_grad)
        if self.center:
            np.copyto(self.beta_grad, np.sum(dy, axis=reduce))
            if self.beta_regularizer is not None:
                self.beta_regularizer.add_gradient(self.beta, self.beta_grad)
        if not need_dx:
            return None
        if not self._training:  # the moving statistics are constants
            return dy * self._factor
        mean_dy = np.mean(dy, axis=reduce, keepdims=True)
        mean_dy_xhat = np.mean(dy * xhat, axis=reduce, keepdims=True)
        return (self._gamma_b * self._invstd) * (dy - mean_dy - xhat * mean_dy_xhat)

    def penalty(self):
        total = 0.0
        if self.scale and self.gamma_regularizer is not None:
            total += self.gamma_regularizer.penalty(self.gamma)
        if self.center and self.beta_regularizer is not None:
            total += self.beta_regularizer.penalty(self.beta)
        return total

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(
                self.moving_mean_initializer
            ),
            moving_variance_initializer=initializers.serialize(
                self.moving_variance_initializer
            ),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=constraints.serialize(self.beta_constraint),
            gamma_constraint=constraints.serialize(self.gamma_constraint),
        )
        return config
