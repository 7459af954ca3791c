"""Keras 2.2's core layers: Dense, Activation, Dropout, Flatten."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ._base import LAYERS, Layer, Rngs

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "ActivityRegularization"]


@LAYERS.register("Dense")
class Dense(Layer):
    """``activation(dot(x, kernel) + bias)``; kernel of shape (input_dim, units).

    Inputs of more than two dimensions are multiplied along their last axis, as in
    Keras 2.2. ``input_dim=n`` is short for ``input_shape=(n,)``. Constraints are applied
    by the optimizer after each update; the activity regularizer adds
    ``regularizer(output)`` (summed over the batch, as Keras) to the loss.
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        if "input_shape" not in kwargs and "input_dim" in kwargs:
            kwargs["input_shape"] = (kwargs.pop("input_dim"),)
        kwargs.pop("input_dim", None)
        super().__init__(**kwargs)
        if (
            isinstance(units, bool)
            or not isinstance(units, (int, np.integer))
            or units <= 0
        ):
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.constraints = {
            name: c
            for name, c in (
                ("kernel", self.kernel_constraint),
                ("bias", self.bias_constraint if self.use_bias else None),
            )
            if c is not None
        }

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"The last dimension of the inputs to Dense should be defined, got input "
                f"shape {input_shape}"
            )
        return (*input_shape[:-1], self.units)

    def weight_shapes(self, input_shape):
        shapes = {"kernel": (input_shape[-1], self.units)}
        if self.use_bias:
            shapes["bias"] = (self.units,)
        return shapes

    def build_weights(self, input_shape, rngs: Rngs):
        weights = {
            "kernel": self.kernel_initializer(
                (input_shape[-1], self.units), self.dtype, rngs.init
            )
        }
        if self.use_bias:
            weights["bias"] = self.bias_initializer(
                (self.units,), self.dtype, rngs.init
            )
        return weights

    def forward(self, x, training):
        x2 = x.reshape(-1, x.shape[-1])
        z = self.buffer("z", (x2.shape[0], self.units))
        np.matmul(x2, self.kernel, out=z)
        if self.use_bias:
            z += self.bias
        act = self.activation
        if act.name == "linear" or act.in_place_safe:
            y = act.forward(z, z)
        else:
            y = act.forward(z, self.buffer("y", z.shape))
        self._x2, self._z, self._y = x2, z, y
        return y.reshape(*x.shape[:-1], self.units)

    def backward(self, dy, need_dx, activated=True):
        dz = dy.reshape(-1, self.units)
        if self.activity_regularizer is not None and activated:
            self.activity_regularizer.add_gradient(self._y, dz)
        if activated and self.activation.name != "linear":
            dz = self.activation.backward(self._z, self._y, dz, dz)
        np.matmul(self._x2.T, dz, out=self.kernel_grad)
        if self.kernel_regularizer is not None:
            self.kernel_regularizer.add_gradient(self.kernel, self.kernel_grad)
        if self.use_bias:
            np.sum(dz, axis=0, out=self.bias_grad)
            if self.bias_regularizer is not None:
                self.bias_regularizer.add_gradient(self.bias, self.bias_grad)
        if not need_dx:
            return None
        dx = self.buffer("dx", self._x2.shape)
        np.matmul(dz, self.kernel.T, out=dx)
        return dx.reshape(*dy.shape[:-1], self.kernel.shape[0])

    def penalty(self):
        total = 0.0
        if self.kernel_regularizer is not None:
            total += self.kernel_regularizer.penalty(self.kernel)
        if self.use_bias and self.bias_regularizer is not None:
            total += self.bias_regularizer.penalty(self.bias)
        if (
            self.activity_regularizer is not None
            and getattr(self, "_y", None) is not None
        ):
            total += self.activity_regularizer.penalty(self._y)
        return total

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
        )
        return config


@LAYERS.register("Activation")
class Activation(Layer):
    """Applies an activation by name: ``Activation('relu')``."""

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, x, training):
        y = self.activation.forward(x, self.buffer("y", x.shape))
        self._x, self._y = x, y
        return y

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        if not activated:
            return dy
        return self.activation.backward(self._x, self._y, dy, dy)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


@LAYERS.register("Dropout")
class Dropout(Layer):
    """Sets a fraction ``rate`` of inputs to 0 during training and scales the others by
    1 / (1 - rate) (TensorFlow's inverted dropout); the identity at inference.

    The mask is drawn from the layer's own generator when ``seed`` is given, else from
    the model's training generator (saved with the model, so resuming is exact).
    """

    def __init__(
        self,
        rate: float,
        noise_shape: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not (math.isfinite(rate) and 0 <= rate < 1)
        ):
            raise ValueError(f"Dropout rate must be a number in [0, 1), got {rate!r}")
        from .._seeding import check_seed

        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = check_seed(seed)
        self.rng: np.random.Generator | None = None

    @property
    def uses_learning_phase(self) -> bool:  # type: ignore[override]
        return 0 < self.rate < 1

    def weight_shapes(self, input_shape):
        return {}

    def build_weights(self, input_shape, rngs: Rngs):
        self.rng = rngs.train if self.seed is None else np.random.default_rng(self.seed)
        return {}

    def forward(self, x, training):
        self._mask = None
        if not training or self.rate == 0:
            return x
        shape = x.shape
        if self.noise_shape is not None:
            shape = tuple(
                s if n is None else n for n, s in zip(self.noise_shape, x.shape)
            )
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        keep = 1.0 - self.rate
        mask = self.rng.random(shape, dtype=draw_dtype) >= self.rate
        self._mask = mask.astype(x.dtype) * x.dtype.type(1.0 / keep)
        return np.multiply(x, self._mask, out=self.buffer("y", x.shape))

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        if self._mask is None:
            return dy
        return np.multiply(dy, self._mask, out=dy)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


@LAYERS.register("Flatten")
class Flatten(Layer):
    """Reshapes (N, d1, d2, ...) to (N, d1 * d2 * ...)."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(
                f"Flatten supports data_format None or 'channels_last', got {data_format!r}"
            )
        self.data_format = data_format

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            raise ValueError(
                f'The shape of the input to "Flatten" is not fully defined (got {rest}). '
                "Make sure to pass a complete input_shape argument to the first layer."
            )
        return (input_shape[0], int(np.prod(rest, dtype=np.int64)))

    def forward(self, x, training):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, need_dx, activated=True):
        return dy.reshape(self._shape) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


@LAYERS.register("ActivityRegularization")
class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x**2)`` of its input (over the
    whole batch, as Keras) to the loss."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:  # noqa: E741
        super().__init__(**kwargs)
        self.regularizer = regularizers.L1L2(l1=l1, l2=l2)
        self.l1, self.l2 = self.regularizer.l1, self.regularizer.l2
        self._x: np.ndarray | None = None

    def forward(self, x, training):
        self._x = x
        return x

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        dy = np.array(dy, copy=True) if not dy.flags.writeable else dy
        self.regularizer.add_gradient(self._x, dy)
        return dy

    def penalty(self):
        return 0.0 if self._x is None else self.regularizer.penalty(self._x)

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config
