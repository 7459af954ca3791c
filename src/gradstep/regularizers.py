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

    def __call__(self, w: Any) -> float:
        """The penalty of ``w``, as Keras's ``regularizer(x)``."""
        return self.penalty(np.asarray(w))

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
    regularizer = get(regularizer)
    return {
        "class_name": type(regularizer).__name__,
        "config": regularizer.get_config(),
    }


def _find(name: str, custom_objects: Mapping[str, Any] | None) -> Any:
    found = _CLASSES.find(name, custom_objects)
    if found is None and name in _NAMES:
        found = _NAMES[name]
    if found is None:
        known = sorted(set(_CLASSES.names()) | set(_NAMES))
        raise ValueError(
            f"Unknown regularizer: {name!r}. Known regularizers: {', '.join(known)}"
        )
    return found


def deserialize(
    config: Any, custom_objects: Mapping[str, Any] | None = None
) -> Regularizer:
    """A regularizer from ``serialize``'s output (a class name or one of l1, l2,
    l1_l2, with its config); ``custom_objects`` and the global custom objects first."""
    if isinstance(config, str):
        return get(config, custom_objects)
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Could not interpret regularizer config: {config!r}")
    found = _find(str(config["class_name"]), custom_objects)
    settings = config.get("config", {}) or {}
    if not isinstance(settings, Mapping):
        raise ValueError(f"regularizer 'config' must be a dict, got {settings!r}")
    if isinstance(found, Regularizer):
        return found
    try:
        if isinstance(found, type) and issubclass(found, Regularizer):
            return found.from_config(dict(settings))
        return _resolve(found(**settings), config)
    except TypeError as exc:
        raise ValueError(f"Bad regularizer config {dict(config)!r}: {exc}") from None


def _resolve(found: Any, identifier: Any) -> Regularizer:
    if isinstance(found, Regularizer):
        return found
    if isinstance(found, type) and issubclass(found, Regularizer):
        return found()
    if any(found is f for f in (l1, l2, l1_l2)):
        return found()  # given uncalled: Keras's defaults
    raise ValueError(
        f"Could not interpret regularizer identifier: {identifier!r}; expected None, a "
        f"Regularizer, a config dict or one of {', '.join(sorted(_NAMES))}, L1L2 "
        "(gradstep needs each penalty's gradient: for your own, subclass "
        "gradstep.regularizers.Regularizer and define penalty and add_gradient)"
    )


def get(
    identifier: Any, custom_objects: Mapping[str, Any] | None = None
) -> Regularizer | None:
    """None, a ``Regularizer``, a config dict, a name (l1, l2, l1_l2, L1L2) or one of
    this module's functions given uncalled (``regularizers.l2``: l=0.01)."""
    if identifier is None:
        return None
    if isinstance(identifier, Mapping):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, str):
        return _resolve(_find(identifier, custom_objects), identifier)
    return _resolve(identifier, identifier)
