"""Keras 2.2 gradient clipping, written once: one global norm over every gradient of a
step, then values.

``clipnorm`` c: with n = sqrt(sum over all tensors and elements of g**2), every gradient is
multiplied by c / n when n >= c (Keras 2.2.4 ``Optimizer.get_gradients``), else left alone; a
step whose gradients are all zero is never scaled. ``clipvalue`` v then clips each element
to [-v, v]. Both are off when None or 0.

Every engine and front end takes the policy from here: ``Clipping.of`` turns an
optimizer's settings into numbers, ``Clipping.scale`` the per-tensor sums of squares of a
step into the factor, and ``clip_element`` is what each element goes through.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .elementwise import maximum, minimum

__all__ = [
    "Clipping",
    "NO_CLIPPING",
    "PerTensorClipping",
    "clip_element",
    "clip_norm",
    "global_norm",
    "norm_scale",
    "squared_norms",
    "total",
]


class Clipping(NamedTuple):
    """An optimizer's clipping as the engines use it: ``norm`` is clipnorm (0.0: off)
    and ``value`` clipvalue (``inf``: off)."""

    norm: float = 0.0
    value: float = math.inf
    norm_epsilon: float = 0.0

    @classmethod
    def of(
        cls,
        clipnorm: float | None,
        clipvalue: float | None,
        norm_epsilon: float = 0.0,
    ) -> Clipping:
        """From the settings ``clipnorm``/``clipvalue`` (None or 0: off).
        ``norm_epsilon``: the factor is min(1, c / (n + norm_epsilon)) instead, as torch's
        ``clip_grad_norm_`` computes it (1e-6)."""
        return cls(
            float(clipnorm) if clipnorm else 0.0,
            float(clipvalue) if clipvalue else math.inf,
            float(norm_epsilon),
        )

    @property
    def clips(self) -> bool:
        """Whether steps with these settings may clip (the compiled kernels without
        ``clip_element`` serve the others: chosen by the settings, not by each step's
        norm, so a step whose norm happens to be under clipnorm compiles nothing new)."""
        return self.norm > 0 or not math.isinf(self.value)

    def scale(self, squares: Callable[[], Sequence[float]]) -> float:
        """The factor every gradient of the step is multiplied by, given a function
        returning each gradient's sum of squares (called only when clipnorm is on)."""
        if self.norm <= 0:
            return 1.0
        norm = math.sqrt(total(squares()))
        if self.norm_epsilon:
            factor = self.norm / (norm + self.norm_epsilon)
            return factor if factor < 1.0 else 1.0
        return norm_scale(norm, self.norm)

    def traced_scale(self, norm: Any, where: Callable[..., Any]) -> Any:
        """``scale`` for a traced ``norm`` (JAX), with ``where(cond, a, b)`` choosing."""
        if self.norm_epsilon:
            factor = self.norm / (norm + self.norm_epsilon)
            return where(factor < 1.0, factor, 1.0)
        return where(norm >= self.norm, self.norm / norm, 1.0)

    def apply(self, grads: Sequence[Any], scale: float) -> list[Any]:
        """``grads`` clipped element by element with the step's ``scale`` (new arrays;
        the same arrays when there is nothing to do)."""
        if scale == 1.0 and math.isinf(self.value):
            return list(grads)
        return [clip_element(g, scale, self.value) for g in grads]

    def without_norm(self) -> Clipping:
        """The value clipping alone (for gradients already scaled by the norm)."""
        return Clipping(0.0, self.value)


NO_CLIPPING = Clipping()


class PerTensorClipping(NamedTuple):
    """Clipping each gradient on its own, before the step (tf.keras legacy, Keras 3):
    first every element to [-value, value] (``inf``: off), then the tensor's L2 norm n
    to at most ``norm`` (0.0: off), as ``tf.clip_by_norm`` does: g * c / max(n, c)."""

    value: float = math.inf
    norm: float = 0.0

    @classmethod
    def of(cls, clipvalue: float, clipnorm: float) -> PerTensorClipping:
        return cls(float(clipvalue) if clipvalue else math.inf, float(clipnorm))

    def apply(
        self,
        grads: Sequence[Any],
        norm_of: Callable[[Any], Any],
        clip_values: Callable[[Any, Any], Any] | None = None,
        factor: Callable[[Any, Any], Any] | None = None,
    ) -> list[Any]:
        """``grads`` clipped (new arrays, in the gradients' dtypes). ``norm_of(g)``: g's
        L2 norm; ``clip_values(g, v)`` and ``factor(n, c)``: ``clip_element(g, 1.0, v)``
        and ``tensor_norm_factor`` for the caller's array type (default: NumPy's, the
        factor as a Python float, so that a float32 gradient is scaled in float32 as
        the frameworks scale it, not promoted to float64)."""
        clip_values = clip_values or (lambda g, v: clip_element(g, 1.0, v))
        factor = factor or (lambda n, c: float(tensor_norm_factor(n, c)))
        clipped = []
        for g in grads:
            if not math.isinf(self.value):
                g = clip_values(g, self.value)
            if self.norm > 0:
                g = g * factor(norm_of(g), self.norm)
            clipped.append(g)
        return clipped


def tensor_norm_factor(norm: Any, clipnorm: Any) -> Any:
    """What a tensor of L2 norm ``norm`` is multiplied by under a per-tensor clipnorm."""
    return clipnorm / maximum(norm, clipnorm)


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


def clip_element(g: Any, scale: Any, clipvalue: Any) -> Any:
    """One clipped gradient element (or array): scale by the norm factor, then clip values.

    ``clipvalue`` is ``inf`` when value clipping is off, which leaves ``g * scale`` as it is.
    """
    return maximum(minimum(g * scale, clipvalue), -clipvalue)


def clip_norm(g: np.ndarray, c: float, n: float) -> np.ndarray:
    """Keras's module function: ``g * c / n`` when c > 0 and n >= c, else ``g``."""
    if c <= 0 or n < c:
        return g
    return g * c / n
