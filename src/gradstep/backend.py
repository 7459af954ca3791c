"""Keras's backend configuration: the fuzz factor ``epsilon`` and the default float type.

``epsilon()`` is read by an optimizer when it is built with ``epsilon=None``; changing it
later does not affect optimizers that already exist, as in Keras 2.2.
"""

from __future__ import annotations

import math

__all__ = ["epsilon", "set_epsilon", "floatx", "set_floatx"]

_FLOATX_CHOICES = ("float16", "float32", "float64")
_epsilon = 1e-7
_floatx = "float32"


def epsilon() -> float:
    """The fuzz factor used where an optimizer is given ``epsilon=None`` (default 1e-7)."""
    return _epsilon


def set_epsilon(value: float) -> None:
    """Set the fuzz factor; it must be a finite number >= 0."""
    global _epsilon
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"epsilon must be a number >= 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"epsilon must be a finite number >= 0, got {value!r}")
    _epsilon = value


def floatx() -> str:
    """The default float type of new weights, as a string: 'float32' unless changed."""
    return _floatx


def set_floatx(value: str) -> None:
    """Set the default float type: one of 'float16', 'float32', 'float64'."""
    global _floatx
    if value not in _FLOATX_CHOICES:
        raise ValueError(
            f"Unknown floatx type: {value!r}; expected one of {', '.join(_FLOATX_CHOICES)}"
        )
    _floatx = str(value)
