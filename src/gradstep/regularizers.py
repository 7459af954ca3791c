"""Keras 2.2 weight regularizers: ``l1``, ``l2``, ``l1_l2`` (class ``L1L2``).

The penalty sum(l1 * |w|) + sum(l2 * w**2) is added to the loss, and its gradient
l1 * sign(w) + 2 * l2 * w to the weight's gradient (sign(0) = 0, as TensorFlow).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._registry import Registry

__all__ = [
    "Regularizer",
    "L1L2",
    "l1",
    "l2",
    "l1_l2",
    "get",
    "serialize",
    "deserialize",
]

_CLASSES = Registry("regularizer")


class Regularizer:
    """Base class: ``penalty(w)`` (a float) and ``add_gradient(w, grad)`` (in place)."""

    def penalty(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Regularizer:
        return cls(**config)


@_CLASSES.register("L1L2")
class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w**2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:  # noqa: E741
        for name, value in (("l1", l1), ("l2", l2)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value >= 0)
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        self.l1, self.l2 = float(l1), float(l2)

    def penalty(self, w: np.ndarray) -> float:
        total = 0.0
        if self.l1:
            total += float(np.sum(self.l1 * np.abs(w)))
        if self.l2:
            total += float(np.sum(self.l2 * np.square(w)))
        return total

    def add_gradient(self, w: np.ndarray, grad: np.ndarray) -> None:
        if self.l1:
            grad += self.l1 * np.sign(w)
        if self.l2:
            grad += (2 * self.l2) * w

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        return f"L1L2(l1={self.l1!r}, l2={self.l2!r})"


def l1(l: float = 0.01) -> L1L2:  # noqa: E741 - Keras's argument name
    """An L1 penalty ``l * sum(|w|)``."""
    return L1L2(l1=l)


def l2(l: float = 0.01) -> L1L2:  # noqa: E741
    """An L2 penalty ``l * sum(w**2)``."""
    return L1L2(l2=l)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:  # noqa: E741
    """Both penalties."""
    return L1L2(l1=l1, l2=l2)


_NAMES = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """``{'class_name': 'L1L2', 'config': {...}}`` or None."""
    if regularizer is None:
        return None
    return {
        "class_name": type(regularizer).__name__,
        "config": regularizer.get_config(),
    }


def deserialize(
    config: Any, custom_objects: Mapping[str, Any] | None = None
) -> Regularizer:
    """A regularizer from ``serialize``'s output (registered classes only)."""
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Could not interpret regularizer config: {config!r}")
    cls = _CLASSES.lookup(config["class_name"], custom_objects)
    try:
        return cls.from_config(dict(config.get("config", {})))
    except TypeError as exc:
        raise ValueError(f"Bad regularizer config {dict(config)!r}: {exc}") from None


def get(identifier: Any) -> Regularizer | None:
    """None, a ``Regularizer``, a config dict or one of the names l1, l2, l1_l2."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, Mapping):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier in _NAMES:
        return _NAMES[identifier]()
    raise ValueError(
        f"Could not interpret regularizer identifier: {identifier!r}; expected None, a "
        f"Regularizer, a config dict or one of {', '.join(sorted(_NAMES))}"
    )
