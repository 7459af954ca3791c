"""Keras 2.2 losses: the same names, aliases and formulas, with their gradients.

A loss maps targets ``y`` and predictions ``p`` of shape (N, ..., D) to a score per sample
and position, shape (N, ...), reducing the last axis as Keras does (a mean for mse and the
like, a sum for the crossentropies); the model's loss is the mean of the scores.
``gradient(y, p)`` is d(sum of scores)/dp. ``eps`` is ``backend.epsilon()`` at call time.

Crossentropies follow Keras 2.2.4's TensorFlow backend: ``categorical_crossentropy``
normalizes p to sum 1 and clips it to [eps, 1 - eps]; ``sparse_categorical_crossentropy``
clips then takes the log-softmax of log(p); ``binary_crossentropy`` clips, takes the
logit and uses the stable sigmoid crossentropy. Gradients treat the clips as TensorFlow
does (zero outside the range). ``fused_gradient`` gives d(sum)/dz through a final softmax
(or sigmoid for binary crossentropy) as p * sum(y) - y (resp. p - y): stable, and equal to
the chain rule wherever the clip is inactive.

Every loss is also a module-level callable under Keras's names and aliases
(``mean_squared_error``, ``mse``, ``MSE``, ``mae``, ``mape``, ``msle``, ``kld``,
``cosine``, ...): ``losses.mse(y_true, y_pred)`` gives the per-sample scores as Keras's
function does, and ``compile(loss=losses.mse)`` works; its ``__name__`` is Keras's
function name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import backend
from ._registry import Registry

# The loss functions with Keras 2.2.4's names and aliases (keras.metrics has them too).
FUNCTION_NAMES = (
    "mean_squared_error",
    "mse",
    "MSE",
    "mean_absolute_error",
    "mae",
    "MAE",
    "mean_absolute_percentage_error",
    "mape",
    "MAPE",
    "mean_squared_logarithmic_error",
    "msle",
    "MSLE",
    "squared_hinge",
    "hinge",
    "categorical_hinge",
    "logcosh",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "kullback_leibler_divergence",
    "kld",
    "KLD",
    "poisson",
    "cosine_proximity",
    "cosine",
)

__all__ = [
    "Loss",
    "get",
    "serialize",
    "deserialize",
    "names",
    "FUNCTION_NAMES",
    *FUNCTION_NAMES,
]

_REGISTRY = Registry("loss", "losses")


class Loss:
    """Base class. Subclasses define ``name``, ``score`` and ``gradient``; ``sparse``
    losses take integer class labels, shape (N,) or (N, 1), instead of arrays shaped like
    the output."""

    name = "loss"
    sparse = False
    fused_activation: str | None = None

    def __call__(self, y_true: Any, y_pred: Any) -> np.ndarray:
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if y_pred.dtype.kind != "f":
            y_pred = y_pred.astype(float)
        if not self.sparse and y_true.shape != y_pred.shape:
            try:
                y_true = np.broadcast_to(y_true, y_pred.shape)
            except ValueError:
                raise ValueError(
                    f"{self.name}: y_true has shape {y_true.shape} and y_pred "
                    f"{y_pred.shape}; they must match"
                ) from None
        return self.score(y_true.astype(y_pred.dtype, copy=False), y_pred)

    @property
    def __name__(self) -> str:
        """Keras's function name (``mse.__name__ == 'mean_squared_error'``)."""
        return self.name

    def score(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def gradient(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fused_gradient(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """d(sum of scores)/dz where p = activation(z) and activation is
        ``fused_activation``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


def _register(*aliases: str):
    def decorate(cls: type) -> type:
        instance = cls()
        for name in (cls.name, *aliases):
            _REGISTRY.add(name, instance)
        return cls

    return decorate


def _eps() -> float:
    return backend.epsilon()


def _inside(x: np.ndarray, low: float, high: float) -> np.ndarray:
    # tf.clip_by_value passes the gradient where low <= x <= high.
    return (x >= low) & (x <= high)


@_register("mse", "MSE")
class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def score(self, y, p):
        return np.mean(np.square(p - y), axis=-1)

    def gradient(self, y, p):
        return (2.0 / p.shape[-1]) * (p - y)


@_register("mae", "MAE")
class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def score(self, y, p):
        return np.mean(np.abs(p - y), axis=-1)

    def gradient(self, y, p):
        return np.sign(p - y) / p.shape[-1]


@_register("mape", "MAPE")
class MeanAbsolutePercentageError(Loss):
    name = "mean_absolute_percentage_error"

    def score(self, y, p):
        diff = np.abs((y - p) / np.clip(np.abs(y), _eps(), None))
        return 100.0 * np.mean(diff, axis=-1)

    def gradient(self, y, p):
        return (100.0 / p.shape[-1]) * np.sign(p - y) / np.clip(np.abs(y), _eps(), None)


@_register("msle", "MSLE")
class MeanSquaredLogarithmicError(Loss):
    name = "mean_squared_logarithmic_error"

    def score(self, y, p):
        first = np.log(np.clip(p, _eps(), None) + 1.0)
        second = np.log(np.clip(y, _eps(), None) + 1.0)
        return np.mean(np.square(first - second), axis=-1)

    def gradient(self, y, p):
        eps = _eps()
        first = np.log(np.clip(p, eps, None) + 1.0)
        second = np.log(np.clip(y, eps, None) + 1.0)
        inner = (p >= eps) / (np.clip(p, eps, None) + 1.0)
        return (2.0 / p.shape[-1]) * (first - second) * inner


@_register()
class SquaredHinge(Loss):
    name = "squared_hinge"

    def score(self, y, p):
        return np.mean(np.square(np.maximum(1.0 - y * p, 0.0)), axis=-1)

    def gradient(self, y, p):
        return (-2.0 / p.shape[-1]) * np.maximum(1.0 - y * p, 0.0) * y


@_register()
class Hinge(Loss):
    name = "hinge"

    def score(self, y, p):
        return np.mean(np.maximum(1.0 - y * p, 0.0), axis=-1)

    def gradient(self, y, p):
        return -y * (1.0 - y * p > 0) / p.shape[-1]


@_register()
class CategoricalHinge(Loss):
    name = "categorical_hinge"

    def score(self, y, p):
        pos = np.sum(y * p, axis=-1)
        neg = np.max((1.0 - y) * p, axis=-1)
        return np.maximum(0.0, neg - pos + 1.0)

    def gradient(self, y, p):
        others = (1.0 - y) * p
        top = np.argmax(others, axis=-1)[..., None]
        onehot = np.arange(p.shape[-1]) == top
        active = (self.score(y, p) > 0)[..., None]
        return active * ((1.0 - y) * onehot - y)


@_register()
class Logcosh(Loss):
    name = "logcosh"

    def score(self, y, p):
        x = p - y
        softplus = np.maximum(-2.0 * x, 0) + np.log1p(np.exp(-np.abs(2.0 * x)))
        return np.mean(x + softplus - math.log(2.0), axis=-1)

    def gradient(self, y, p):
        return np.tanh(p - y) / p.shape[-1]


@_register()
class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def score(self, y, p):
        eps = _eps()
        q = np.clip(p / np.sum(p, axis=-1, keepdims=True), eps, 1.0 - eps)
        return -np.sum(y * np.log(q), axis=-1)

    def gradient(self, y, p):
        eps = _eps()
        total = np.sum(p, axis=-1, keepdims=True)
        q = p / total
        dq = -y / np.clip(q, eps, 1.0 - eps) * _inside(q, eps, 1.0 - eps)
        return (dq - np.sum(dq * q, axis=-1, keepdims=True)) / total

    def fused_gradient(self, y, p):
        return p * np.sum(y, axis=-1, keepdims=True) - y


@_register()
class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"
    sparse = True
    fused_activation = "softmax"

    def score(self, y, p):
        eps = _eps()
        logs = np.log(np.clip(p, eps, 1.0 - eps))
        top = np.max(logs, axis=-1, keepdims=True)
        lse = np.log(np.sum(np.exp(logs - top), axis=-1)) + top[..., 0]
        return lse - np.take_along_axis(logs, _labels(y, p)[..., None], axis=-1)[..., 0]

    def gradient(self, y, p):
        eps = _eps()
        c = np.clip(p, eps, 1.0 - eps)
        onehot = _onehot(y, p)
        return (1.0 / np.sum(c, axis=-1, keepdims=True) - onehot / c) * _inside(
            p, eps, 1.0 - eps
        )

    def fused_gradient(self, y, p):
        return p - _onehot(y, p)


@_register()
class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def score(self, y, p):
        eps = _eps()
        c = np.clip(p, eps, 1.0 - eps)
        logit = np.log(c / (1.0 - c))
        values = np.maximum(logit, 0) - logit * y + np.log1p(np.exp(-np.abs(logit)))
        return np.mean(values, axis=-1)

    def gradient(self, y, p):
        eps = _eps()
        c = np.clip(p, eps, 1.0 - eps)
        return (c - y) / (c * (1.0 - c)) * _inside(p, eps, 1.0 - eps) / p.shape[-1]

    def fused_gradient(self, y, p):
        return (p - y) / p.shape[-1]


@_register("kld", "KLD")
class KullbackLeiblerDivergence(Loss):
    name = "kullback_leibler_divergence"

    def score(self, y, p):
        eps = _eps()
        t, q = np.clip(y, eps, 1.0), np.clip(p, eps, 1.0)
        return np.sum(t * np.log(t / q), axis=-1)

    def gradient(self, y, p):
        eps = _eps()
        t, q = np.clip(y, eps, 1.0), np.clip(p, eps, 1.0)
        return -t / q * _inside(p, eps, 1.0)


@_register()
class Poisson(Loss):
    name = "poisson"

    def score(self, y, p):
        return np.mean(p - y * np.log(p + _eps()), axis=-1)

    def gradient(self, y, p):
        return (1.0 - y / (p + _eps())) / p.shape[-1]


@_register("cosine")
class CosineProximity(Loss):
    name = "cosine_proximity"

    @staticmethod
    def _unit(x):
        # tf.nn.l2_normalize: x / sqrt(max(sum(x**2), 1e-12))
        return x / np.sqrt(np.maximum(np.sum(x * x, axis=-1, keepdims=True), 1e-12))

    def score(self, y, p):
        return -np.sum(self._unit(y) * self._unit(p), axis=-1)

    def gradient(self, y, p):
        squares = np.sum(p * p, axis=-1, keepdims=True)
        r = 1.0 / np.sqrt(np.maximum(squares, 1e-12))
        t, u = self._unit(y), p * r
        along = (squares > 1e-12) * np.sum(t * u, axis=-1, keepdims=True) * u
        return -r * (t - along)


def _labels(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    labels = np.asarray(y)
    if labels.shape == p.shape[:-1] + (1,):
        labels = labels[..., 0]
    return labels.astype(np.intp, copy=False)


def _onehot(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (np.arange(p.shape[-1]) == _labels(y, p)[..., None]).astype(p.dtype)


# Keras's functions and aliases: the registered instances themselves.
mean_squared_error = mse = MSE = _REGISTRY.items()["mean_squared_error"]
mean_absolute_error = mae = MAE = _REGISTRY.items()["mean_absolute_error"]
mean_absolute_percentage_error = mape = MAPE = _REGISTRY.items()[
    "mean_absolute_percentage_error"
]
mean_squared_logarithmic_error = msle = MSLE = _REGISTRY.items()[
    "mean_squared_logarithmic_error"
]
squared_hinge = _REGISTRY.items()["squared_hinge"]
hinge = _REGISTRY.items()["hinge"]
categorical_hinge = _REGISTRY.items()["categorical_hinge"]
logcosh = _REGISTRY.items()["logcosh"]
categorical_crossentropy = _REGISTRY.items()["categorical_crossentropy"]
sparse_categorical_crossentropy = _REGISTRY.items()["sparse_categorical_crossentropy"]
binary_crossentropy = _REGISTRY.items()["binary_crossentropy"]
kullback_leibler_divergence = kld = KLD = _REGISTRY.items()[
    "kullback_leibler_divergence"
]
poisson = _REGISTRY.items()["poisson"]
cosine_proximity = cosine = _REGISTRY.items()["cosine_proximity"]


def names() -> list[str]:
    """The names ``get`` accepts (Keras's names and aliases)."""
    return _REGISTRY.names()


def _resolve(found: Any, identifier: Any) -> Loss:
    if isinstance(found, Loss):
        return found
    if isinstance(found, type) and issubclass(found, Loss):
        return found()
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}; expected a name "
        f"({', '.join(names())}), one of gradstep.losses' functions or a Loss instance "
        "(gradstep needs each loss's gradient: for your own, subclass "
        "gradstep.losses.Loss and define score and gradient)"
    )


def get(identifier: Any, custom_objects: Mapping[str, Any] | None = None) -> Loss:
    """A loss from its name or alias, one of this module's functions (``losses.mse``),
    a ``Loss`` instance (returned as is) or a ``Loss`` subclass (instantiated)."""
    if isinstance(identifier, str):
        return _resolve(_REGISTRY.lookup(identifier, custom_objects), identifier)
    if isinstance(identifier, Mapping) and "class_name" in identifier:
        return _resolve(
            _REGISTRY.lookup(identifier["class_name"], custom_objects), identifier
        )
    return _resolve(identifier, identifier)


def serialize(loss: Loss) -> str:
    """The loss's Keras name."""
    return get(loss).name


def deserialize(name: Any, custom_objects: Mapping[str, Any] | None = None) -> Loss:
    """The loss called ``name`` (``custom_objects`` and the global custom objects
    first)."""
    if not isinstance(name, (str, Mapping)):
        raise ValueError(
            f"Could not interpret serialized loss: {name!r}; expected a name"
        )
    return get(name, custom_objects)
