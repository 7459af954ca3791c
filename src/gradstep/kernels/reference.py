"""The reference engine: the rule applied to whole NumPy arrays, one tensor at a time.

Readable rather than fast: each operation of the rule makes a temporary array. All new
values are computed before any array is written, so an error leaves everything unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..optimizers._clip import clip_element, global_norm, norm_scale, squared_norms

__all__ = ["ReferenceEngine"]


class ReferenceEngine:
    name = "reference"

    def allocate_slots(
        self, params: Sequence[np.ndarray], count: int
    ) -> list[tuple[np.ndarray, ...]]:
        return [tuple(np.zeros_like(p) for _ in range(count)) for p in params]

    def squares(self, grads: Sequence[np.ndarray]) -> list[float]:
        return squared_norms(grads)

    def step(
        self,
        rule: Callable[..., tuple[Any, ...]],
        coefficients: NamedTuple,
        params: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        slots: Sequence[tuple[np.ndarray, ...]],
        clipnorm: float,
        clipvalue: float,
    ) -> None:
        scale = norm_scale(global_norm(grads), clipnorm) if clipnorm > 0 else 1.0
        if scale != 1.0 or not math.isinf(clipvalue):
            grads = [clip_element(g, scale, clipvalue) for g in grads]
        results = [
            rule(p, g, *s, coefficients) for p, g, s in zip(params, grads, slots)
        ]
        for p, s, new in zip(params, slots, results):
            for target, value in zip((p, *s), new):
                np.copyto(target, value, casting="same_kind")
