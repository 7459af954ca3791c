"""Keras 2.2 activations, each with its forward and backward pass in NumPy.

An activation is an object with ``name``, ``forward(x, out)`` (writes act(x) into ``out``,
which may be ``x`` itself) and ``backward(x, y, dy, out)`` (writes dL/dx given the input
``x``, the output ``y`` and dL/dy; ``out`` may be ``dy``). Backward passes follow the
gradients TensorFlow defines (relu: 0 at 0; hard_sigmoid: 0.2 inside [-2.5, 2.5]).
Numerically stable forms are used where the plain formula overflows (sigmoid, softplus,
elu, softmax).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._registry import Registry

__all__ = ["get", "serialize", "deserialize", "names", "Activation_"]

_REGISTRY = Registry("activation")

# Keras 2.2's SELU constants (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Activation_:  # noqa: N801 - base of the activation singletons, not the layer
    """Base class: the identity; subclasses override ``forward`` and ``backward``."""

    name = "linear"
    in_place_safe = True  # backward needs only y, so forward may overwrite x

    def forward(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        if out is not x:
            np.copyto(out, x)
        return out

    def backward(
        self, x: np.ndarray, y: np.ndarray, dy: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        if out is not dy:
            np.copyto(out, dy)
        return out

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        return self.forward(x, np.empty_like(x))

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


def _register(cls: type) -> type:
    _REGISTRY.add(cls.name, cls())
    return cls


_register(Activation_)


@_register
class _Relu(Activation_):
    name = "relu"

    def forward(self, x, out):
        return np.maximum(x, 0, out=out)

    def backward(self, x, y, dy, out):
        return np.multiply(dy, y > 0, out=out)


@_register
class _Tanh(Activation_):
    name = "tanh"

    def forward(self, x, out):
        return np.tanh(x, out=out)

    def backward(self, x, y, dy, out):
        return np.multiply(dy, 1 - y * y, out=out)


@_register
class _Sigmoid(Activation_):
    name = "sigmoid"

    def forward(self, x, out):
        e = np.exp(-np.abs(x))
        return np.divide(np.where(x >= 0, 1, e), 1 + e, out=out)

    def backward(self, x, y, dy, out):
        return np.multiply(dy, y * (1 - y), out=out)


@_register
class _HardSigmoid(Activation_):
    name = "hard_sigmoid"
    in_place_safe = False

    def forward(self, x, out):
        return np.clip(0.2 * x + 0.5, 0, 1, out=out)

    def backward(self, x, y, dy, out):
        z = 0.2 * x + 0.5
        return np.multiply(dy, 0.2 * ((z >= 0) & (z <= 1)), out=out)


@_register
class _Softmax(Activation_):
    name = "softmax"

    def forward(self, x, out):
        np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    def backward(self, x, y, dy, out):
        s = (dy * y).sum(axis=-1, keepdims=True)
        return np.multiply(y, dy - s, out=out)


@_register
class _Softplus(Activation_):
    name = "softplus"
    in_place_safe = False

    def forward(self, x, out):
        return np.add(np.maximum(x, 0), np.log1p(np.exp(-np.abs(x))), out=out)

    def backward(self, x, y, dy, out):
        e = np.exp(-np.abs(x))
        return np.multiply(dy, np.where(x >= 0, 1, e) / (1 + e), out=out)


@_register
class _Softsign(Activation_):
    name = "softsign"
    in_place_safe = False

    def forward(self, x, out):
        return np.divide(x, np.abs(x) + 1, out=out)

    def backward(self, x, y, dy, out):
        d = np.abs(x) + 1
        return np.divide(dy, d * d, out=out)


@_register
class _Elu(Activation_):
    name = "elu"
    in_place_safe = False

    def forward(self, x, out):
        out[...] = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
        return out

    def backward(self, x, y, dy, out):
        return np.multiply(dy, np.where(x > 0, 1, y + 1), out=out)


@_register
class _Selu(Activation_):
    name = "selu"
    in_place_safe = False

    def forward(self, x, out):
        neg = (SELU_SCALE * SELU_ALPHA) * np.expm1(np.minimum(x, 0))
        out[...] = np.where(x > 0, SELU_SCALE * x, neg)
        return out

    def backward(self, x, y, dy, out):
        slope = np.where(x > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA)
        return np.multiply(dy, slope, out=out)


@_register
class _Exponential(Activation_):
    name = "exponential"

    def forward(self, x, out):
        return np.exp(x, out=out)

    def backward(self, x, y, dy, out):
        return np.multiply(dy, y, out=out)


def names() -> list[str]:
    """The names ``get`` accepts."""
    return _REGISTRY.names()


def get(
    identifier: Any, custom_objects: Mapping[str, Any] | None = None
) -> Activation_:
    """An activation from a name ('relu', ...), ``None`` (linear) or an activation object."""
    if identifier is None:
        return _REGISTRY.lookup("linear")
    if isinstance(identifier, Activation_):
        return identifier
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier, custom_objects)
    raise ValueError(
        f"Could not interpret activation identifier: {identifier!r}; expected one of "
        f"{', '.join(names())} (gradstep needs each activation's backward pass, so plain "
        "functions are not accepted)"
    )


def serialize(activation: Activation_) -> str:
    """The activation's name, as Keras stores it in configs."""
    return activation.name


def deserialize(
    name: str, custom_objects: Mapping[str, Any] | None = None
) -> Activation_:
    """The activation called ``name``."""
    return get(name, custom_objects)
