"""Keras 2.2 activations, each with its forward and backward pass in NumPy.

An activation is an object with ``name``, ``forward(x, out)`` (writes act(x) into ``out``,
which may be ``x`` itself) and ``backward(x, y, dy, out)`` (writes dL/dx given the input
``x``, the output ``y`` and dL/dy; ``out`` may be ``dy``). Backward passes follow the
gradients TensorFlow defines (relu: 0 at 0; hard_sigmoid: 0.2 inside [-2.5, 2.5]).
Numerically stable forms are used where the plain formula overflows (sigmoid, softplus,
elu, softmax).

Keras's functions are here too, on NumPy arrays, with Keras 2.2.4's extra arguments:
``relu(x, alpha=0., max_value=None, threshold=0.)``, ``elu(x, alpha=1.)``,
``softmax(x, axis=-1)`` (which refuses 1-D input and, as Keras 2.2.4, uses the last axis
for 2-D input whatever ``axis``), ``selu``, ``softplus``, ``softsign``, ``tanh``,
``sigmoid``, ``hard_sigmoid``, ``exponential``, ``linear``. ``get`` takes a name, one of
these functions (``Dense(activation=activations.relu)``) or an activation object; an
activation with other arguments is ``Relu(alpha=0.1)``, ``Elu(alpha=0.5)``,
``Softmax(axis=1)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._registry import Registry

__all__ = [
    "Activation_",
    "Elu",
    "Relu",
    "Softmax",
    "deserialize",
    "elu",
    "exponential",
    "get",
    "hard_sigmoid",
    "linear",
    "names",
    "relu",
    "selu",
    "serialize",
    "sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
]

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


def _number(name: str, value: Any) -> float:
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(float(value))
    ):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _register(cls: type) -> type:
    _REGISTRY.add(cls.name, cls())
    return cls


_register(Activation_)


@_register
class Relu(Activation_):
    """Keras 2.2.4's ``relu(x, alpha, max_value, threshold)``: x where x > threshold
    (clipped to ``max_value``), ``alpha * (x - threshold)`` below the threshold."""

    name = "relu"

    def __init__(
        self, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0
    ) -> None:
        self.alpha = _number("alpha", alpha)
        self.max_value = None if max_value is None else _number("max_value", max_value)
        self.threshold = _number("threshold", threshold)
        self.plain = self.alpha == 0 and self.max_value is None and self.threshold == 0
        self.in_place_safe = self.plain

    def forward(self, x, out):
        if self.plain:
            return np.maximum(x, 0, out=out)
        if self.threshold != 0:
            value = x * (x > self.threshold)
        else:
            value = np.maximum(x, 0)
        if self.max_value is not None:
            value = np.clip(value, 0.0, self.max_value)
        if self.alpha != 0:
            value = value - self.alpha * np.maximum(self.threshold - x, 0)
        out[...] = value
        return out

    def backward(self, x, y, dy, out):
        if self.plain:
            return np.multiply(dy, y > 0, out=out)
        slope = (x > self.threshold).astype(dy.dtype)
        if self.max_value is not None:
            part = x * (x > self.threshold) if self.threshold != 0 else np.maximum(x, 0)
            slope *= (part >= 0) & (part <= self.max_value)  # clip passes inside
        if self.alpha != 0:
            slope += self.alpha * (self.threshold - x > 0)
        return np.multiply(dy, slope, out=out)


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
class Softmax(Activation_):
    """Keras 2.2.4's ``softmax(x, axis=-1)``: over ``axis`` for 3-D and more, over the
    last axis for 2-D input; 1-D input is refused."""

    name = "softmax"

    def __init__(self, axis: int = -1) -> None:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"softmax axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def _axis(self, x: np.ndarray) -> int:
        if x.ndim < 2:
            raise ValueError(
                "Cannot apply softmax to a tensor that is 1D (or 0-D). Received input "
                f"of shape {x.shape}"
            )
        if x.ndim == 2:
            return -1
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError(
                f"softmax axis {self.axis} is out of range for input of shape {x.shape}"
            )
        return self.axis

    def forward(self, x, out):
        axis = self._axis(x)
        np.subtract(x, x.max(axis=axis, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=axis, keepdims=True)
        return out

    def backward(self, x, y, dy, out):
        s = (dy * y).sum(axis=self._axis(y), keepdims=True)
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
class Elu(Activation_):
    """Keras 2.2.4's ``elu(x, alpha=1.)``: x for x > 0, alpha * (exp(x) - 1) else."""

    name = "elu"
    in_place_safe = False

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = _number("alpha", alpha)

    def forward(self, x, out):
        out[...] = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))
        return out

    def backward(self, x, y, dy, out):
        return np.multiply(dy, np.where(x > 0, 1, y + self.alpha), out=out)


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


def _function(activation: Activation_, fn: Callable[..., np.ndarray]) -> Callable:
    fn.activation = activation  # type: ignore[attr-defined]
    return fn


def _apply(activation: Activation_, x: Any) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(float)
    return activation.forward(x, np.empty_like(x))


def _builtin(name: str) -> Activation_:
    return _REGISTRY.items()[name]


def relu(
    x: Any, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> np.ndarray:
    """Keras's ``relu`` with its extra arguments (see ``Relu``)."""
    return _apply(Relu(alpha, max_value, threshold), x)


def elu(x: Any, alpha: float = 1.0) -> np.ndarray:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _apply(Elu(alpha), x)


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along ``axis`` (the last one for 2-D input); refuses 1-D."""
    return _apply(Softmax(axis), x)


def selu(x: Any) -> np.ndarray:
    """scale * elu(x, alpha) with Keras's SELU constants."""
    return _apply(_builtin("selu"), x)


def softplus(x: Any) -> np.ndarray:
    """log(1 + exp(x))."""
    return _apply(_builtin("softplus"), x)


def softsign(x: Any) -> np.ndarray:
    """x / (1 + |x|)."""
    return _apply(_builtin("softsign"), x)


def tanh(x: Any) -> np.ndarray:
    """The hyperbolic tangent."""
    return _apply(_builtin("tanh"), x)


def sigmoid(x: Any) -> np.ndarray:
    """1 / (1 + exp(-x))."""
    return _apply(_builtin("sigmoid"), x)


def hard_sigmoid(x: Any) -> np.ndarray:
    """clip(0.2 * x + 0.5, 0, 1)."""
    return _apply(_builtin("hard_sigmoid"), x)


def exponential(x: Any) -> np.ndarray:
    """exp(x)."""
    return _apply(_builtin("exponential"), x)


def linear(x: Any) -> np.ndarray:
    """x itself."""
    return np.asarray(x)


for _fn in (
    relu,
    elu,
    softmax,
    selu,
    softplus,
    softsign,
    tanh,
    sigmoid,
    hard_sigmoid,
    exponential,
    linear,
):
    _function(_builtin(_fn.__name__), _fn)


def names() -> list[str]:
    """The names ``get`` accepts."""
    return _REGISTRY.names()


def _resolve(found: Any, identifier: Any) -> Activation_:
    if isinstance(found, Activation_):
        return found
    if isinstance(found, type) and issubclass(found, Activation_):
        return found()
    activation = getattr(found, "activation", None)
    if isinstance(activation, Activation_):
        return activation
    raise ValueError(
        f"Could not interpret activation identifier: {identifier!r}; expected a name "
        f"({', '.join(names())}), one of gradstep.activations' functions or an "
        "Activation_ object (gradstep needs each activation's backward pass, so plain "
        "functions are not accepted: for your own, subclass "
        "gradstep.activations.Activation_ and define forward and backward)"
    )


def get(
    identifier: Any, custom_objects: Mapping[str, Any] | None = None
) -> Activation_:
    """An activation from ``None`` (linear), a name ('relu', ...), one of this module's
    functions (``relu``) or an activation object (returned as is)."""
    if identifier is None:
        return _REGISTRY.lookup("linear")
    if isinstance(identifier, str):
        return _resolve(_REGISTRY.lookup(identifier, custom_objects), identifier)
    return _resolve(identifier, identifier)


def serialize(activation: Any) -> str:
    """The activation's name, as Keras stores it in configs."""
    if isinstance(activation, Activation_):
        return activation.name
    return get(activation).name


def deserialize(
    name: str, custom_objects: Mapping[str, Any] | None = None
) -> Activation_:
    """The activation called ``name`` (``custom_objects`` and the global custom objects
    first)."""
    if not isinstance(name, str):
        raise ValueError(
            f"Could not interpret serialized activation: {name!r}; expected a name"
        )
    return get(name, custom_objects)
