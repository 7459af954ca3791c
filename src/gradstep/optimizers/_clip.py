"""Keras 2.2 gradient clipping: one global norm over every gradient of a step, then values.

``clipnorm`` c: with n = sqrt(sum over all tensors and elements of g**2), every gradient is
multiplied by c / n when n >= c (Keras 2.2.4 ``Optimizer.get_gradients``), else left alone; a
step whose gradients are all zero is never scaled. ``clipvalue`` v then clips each element
to [-v, v]. Both are off when None or 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .elementwise import maximum, minimum

__all__ = [
    "clip_element",
    "clip_norm",
    "global_norm",
    "norm_scale",
    "squared_norms",
    "total",
]


def global_norm(grads: Sequence[np.ndarray]) -> float:
    """The L2 norm of all gradients together, accumulated in float64."""
    return math.sqrt(total(squared_norms(grads)))


def squared_norms(grads: Sequence[np.ndarray]) -> list[float]:
    """Each gradient's sum of squares, in float64 (NumPy's dot product)."""
    squares = []
    for g in grads:
        flat = np.ravel(g).astype(np.float64, copy=False)
        squares.append(float(np.dot(flat, flat)))
    return squares


def total(values: Sequence[float]) -> float:
    """``values`` added in order from 0.0 (not ``sum``, which compensates on newer
    Pythons): the order every engine sums per-tensor squares in."""
    result = 0.0
    for value in values:
        result += value
    return result


def norm_scale(norm: float, clipnorm: float | None) -> float:
    """The factor every gradient is multiplied by: c / n when clipnorm c > 0 and n >= c."""
    if clipnorm and clipnorm > 0 and norm >= clipnorm:
        return clipnorm / norm
    return 1.0


def clip_element(g, scale, clipvalue):
    """One clipped gradient element (or array): scale by the norm factor, then clip values.

    ``clipvalue`` is ``inf`` when value clipping is off, which leaves ``g * scale`` as it is.
    """
    return maximum(minimum(g * scale, clipvalue), -clipvalue)


def clip_norm(g: np.ndarray, c: float, n: float) -> np.ndarray:
    """Keras's module function: ``g * c / n`` when c > 0 and n >= c, else ``g``."""
    if c <= 0 or n < c:
        return g
    return g * c / n
