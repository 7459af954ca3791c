"""Keras 2.2's noise layers: ``GaussianNoise``, ``GaussianDropout``, ``AlphaDropout``.

Each is the identity at inference. In training the noise is drawn from the layer's own
generator when ``seed`` is given (AlphaDropout), else from the model's training
generator (saved with the model, so resuming is exact).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._seeding import check_seed
from ._base import LAYERS, Layer, Rngs

__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _number(value: Any, what: str, low: float, high: float, high_open: bool) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.floating, np.integer))
        and math.isfinite(value)
        and low <= value
        and (value < high if high_open else value <= high)
    )
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(
            f"{what} must be a number in [{low}, {high}{bracket}, got {value!r}"
        )
    return float(value)


class _Noise(Layer):
    uses_learning_phase = True

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.rng: np.random.Generator | None = None
        self._factor: np.ndarray | None = None

    def weight_shapes(self, input_shape):
        return {}

    def build_weights(self, input_shape, rngs: Rngs):
        self.rng = rngs.train if self.seed is None else np.random.default_rng(self.seed)
        return {}

    def backward(self, dy, need_dx, activated=True):
        if not need_dx:
            return None
        if self._factor is None:
            return dy
        return np.multiply(dy, self._factor, out=dy)


@LAYERS.register("GaussianNoise")
class GaussianNoise(_Noise):
    """Adds normal noise of standard deviation ``stddev`` in training."""

    def __init__(self, stddev: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stddev = _number(stddev, "GaussianNoise stddev", 0.0, math.inf, True)

    def forward(self, x, training):
        self._factor = None
        if not training:
            return x
        noise = self.rng.normal(0.0, self.stddev, x.shape).astype(x.dtype, copy=False)
        return np.add(x, noise, out=self.buffer("y", x.shape, x.dtype))

    def get_config(self):
        config = super().get_config()
        config["stddev"] = self.stddev
        return config


@LAYERS.register("GaussianDropout")
class GaussianDropout(_Noise):
    """Multiplies by normal noise of mean 1 and standard deviation
    sqrt(rate / (1 - rate)) in training (when 0 < rate < 1)."""

    def __init__(self, rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _number(rate, "GaussianDropout rate", 0.0, 1.0, False)

    def forward(self, x, training):
        self._factor = None
        if not training or not 0 < self.rate < 1:
            return x
        std = math.sqrt(self.rate / (1.0 - self.rate))
        self._factor = self.rng.normal(1.0, std, x.shape).astype(x.dtype, copy=False)
        return np.multiply(x, self._factor, out=self.buffer("y", x.shape, x.dtype))

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        return config


@LAYERS.register("AlphaDropout")
class AlphaDropout(_Noise):
    """Dropout keeping SELU's mean and variance (Keras 2.2.4's formula): dropped inputs
    become -alpha * scale, then ``a * x + b`` restores the statistics."""

    def __init__(
        self,
        rate: float,
        noise_shape: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, **kwargs)
        self.rate = _number(rate, "AlphaDropout rate", 0.0, 1.0, False)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def forward(self, x, training):
        self._factor = None
        if not training or not 0 < self.rate < 1:
            return x
        shape = x.shape
        if self.noise_shape is not None:
            shape = tuple(
                s if n is None else n for n, s in zip(self.noise_shape, x.shape)
            )
        rate = self.rate
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        kept = (self.rng.random(shape) >= rate).astype(x.dtype)
        a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * rate
        y = self.buffer("y", x.shape, x.dtype)
        np.multiply(x, kept, out=y)
        y += alpha_p * (1 - kept)
        y *= a
        y += b
        self._factor = np.broadcast_to(a * kept, x.shape)
        return y

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config
