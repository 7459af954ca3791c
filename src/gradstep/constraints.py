"""Keras 2.2.4 weight constraints: ``MaxNorm``, ``NonNeg``, ``UnitNorm``, ``MinMaxNorm``.

A constraint is a callable ``c(w) -> w'`` (same shape) applied by the optimizer to each
parameter right after its update, within the step, as Keras 2.2's ``get_updates`` does
(``new_p = p.constraint(new_p)``). In a model, ``Dense(kernel_constraint=max_norm(2))``
hands it to the optimizer; with the NumPy API pass it yourself:
``opt.apply_gradients(zip(grads, params), constraints=[max_norm(2), None])`` (one entry
per pair, ``None`` for none). Any callable of an array works.

The formulas are Keras 2.2.4's, ``epsilon`` being ``backend.epsilon()`` when called::

    norms = sqrt(sum(w**2, axis, keepdims=True))
    MaxNorm:    w * (clip(norms, 0, max_value) / (epsilon + norms))
    NonNeg:     w * (w >= 0)
    UnitNorm:   w / (epsilon + norms)
    MinMaxNorm: w * ((rate * clip(norms, min_value, max_value) + (1 - rate) * norms)
                     / (epsilon + norms))

``axis=0`` (the default) constrains each column of a Dense kernel (each unit's incoming
weights); ``axis=None`` the whole array.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import backend
from ._registry import Registry

__all__ = [
    "Constraint",
    "MaxNorm",
    "NonNeg",
    "UnitNorm",
    "MinMaxNorm",
    "max_norm",
    "non_neg",
    "unit_norm",
    "min_max_norm",
    "maxnorm",
    "nonneg",
    "unitnorm",
    "get",
    "serialize",
    "deserialize",
    "names",
]

_CLASSES = Registry("constraint")

Axis = int | tuple[int, ...] | list[int] | None


class Constraint:
    """Base class: the identity. Subclasses define ``__call__(w)`` and ``get_config``."""

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _number(name: str, value: Any, low: float = 0.0) -> float:
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(float(value))
        or float(value) < low
    ):
        raise ValueError(f"{name} must be a finite number >= {low:g}, got {value!r}")
    return float(value)


def _axis(value: Any) -> Axis:
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (tuple, list)) and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in value
    ):
        return [int(a) for a in value]
    raise ValueError(
        f"axis must be an integer, a list of integers or None, got {value!r}"
    )


def _norms(w: np.ndarray, axis: Axis) -> np.ndarray:
    try:
        return np.sqrt(
            np.sum(
                np.square(w),
                axis=None if axis is None else tuple(np.atleast_1d(axis)),
                keepdims=True,
            )
        )
    except np.exceptions.AxisError:
        raise ValueError(
            f"constraint axis {axis!r} is out of range for a weight of shape {w.shape}"
        ) from None


def _array(w: Any) -> np.ndarray:
    w = np.asarray(w)
    return w if w.dtype.kind == "f" else w.astype(float)


@_CLASSES.register("MaxNorm")
class MaxNorm(Constraint):
    """The norm along ``axis`` of each slice is at most ``max_value``."""

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value = _number("max_value", max_value)
        self.axis = _axis(axis)

    def __call__(self, w):
        w = _array(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


@_CLASSES.register("NonNeg")
class NonNeg(Constraint):
    """Negative weights become 0."""

    def __call__(self, w):
        w = _array(w)
        return w * (w >= 0).astype(w.dtype)


@_CLASSES.register("UnitNorm")
class UnitNorm(Constraint):
    """Each slice along ``axis`` is divided by its norm (plus epsilon)."""

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = _axis(axis)

    def __call__(self, w):
        w = _array(w)
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


@_CLASSES.register("MinMaxNorm")
class MinMaxNorm(Constraint):
    """The norm along ``axis`` of each slice is moved into [min_value, max_value], by the
    fraction ``rate`` of the way (1: all the way)."""

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: Axis = 0,
    ) -> None:
        self.min_value = _number("min_value", min_value)
        self.max_value = _number("max_value", max_value)
        if self.max_value < self.min_value:
            raise ValueError(
                f"max_value must be >= min_value, got min_value={min_value!r}, "
                f"max_value={max_value!r}"
            )
        self.rate = _number("rate", rate)
        self.axis = _axis(axis)

    def __call__(self, w):
        w = _array(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * np.clip(norms, self.min_value, self.max_value)
            + (1 - self.rate) * norms
        )
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


# Keras's lower-case aliases, and its legacy ones.
max_norm = maxnorm = MaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
min_max_norm = MinMaxNorm

_NAMES = Registry("constraint")
for _name, _cls in {
    "max_norm": MaxNorm,
    "maxnorm": MaxNorm,
    "non_neg": NonNeg,
    "nonneg": NonNeg,
    "unit_norm": UnitNorm,
    "unitnorm": UnitNorm,
    "min_max_norm": MinMaxNorm,
}.items():
    _NAMES.add(_name, _cls)


def names() -> list[str]:
    """The names ``get`` accepts (class names and Keras's aliases)."""
    return sorted(set(_CLASSES.names()) | set(_NAMES.names()))


def serialize(constraint: Any) -> Any:
    """None, ``{'class_name': ..., 'config': ...}`` as Keras writes it, or a function's
    ``__name__``."""
    if constraint is None:
        return None
    if isinstance(constraint, Constraint):
        return {
            "class_name": type(constraint).__name__,
            "config": constraint.get_config(),
        }
    name = getattr(constraint, "__name__", None)
    if name is None:
        raise ValueError(
            f"Cannot serialize constraint {constraint!r}: it is neither a Constraint "
            "nor a named function"
        )
    return name


def _find(name: str, custom_objects: Mapping[str, Any] | None) -> Any:
    found = _CLASSES.find(name, custom_objects)
    if found is None:
        found = _NAMES.find(name)
    if found is None:
        raise ValueError(
            f"Unknown constraint: {name!r}. Known constraints: {', '.join(names())}"
        )
    return found


def deserialize(
    config: Any, custom_objects: Mapping[str, Any] | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A constraint from ``serialize``'s output: a config dict or a name."""
    if isinstance(config, str):
        found = _find(config, custom_objects)
        return found() if isinstance(found, type) else found
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret constraint config: {config!r}; expected "
            "{'class_name': ..., 'config': {...}} or a name"
        )
    cls = _find(config["class_name"], custom_objects)
    settings = config.get("config") or {}
    if not isinstance(settings, Mapping):
        raise ValueError(f"constraint 'config' must be a dict, got {settings!r}")
    if not isinstance(cls, type):
        return cls
    try:
        if hasattr(cls, "from_config"):
            return cls.from_config(dict(settings))
        return cls(**settings)
    except TypeError as exc:
        raise ValueError(f"Bad constraint config {dict(config)!r}: {exc}") from None


def get(identifier: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """None, a config dict, a name ('max_norm', 'NonNeg', ...) or any callable (a
    ``Constraint`` class is instantiated with its defaults)."""
    if identifier is None:
        return None
    if isinstance(identifier, (Mapping, str)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret constraint identifier: {identifier!r}; expected None, a "
        f"callable, a config dict or one of {', '.join(names())}"
    )
