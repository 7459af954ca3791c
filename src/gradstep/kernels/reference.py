"""The reference engine: the rule applied to whole NumPy arrays, one tensor at a time.

Readable rather than fast: each operation of the rule makes a temporary array. All new
values are computed before any array is written, so an error leaves everything unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .clip import Clipping, squared_norms

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
        clipping: Clipping,
    ) -> None:
        grads = clipping.apply(grads, clipping.scale(lambda: self.squares(grads)))
        results = [
            rule(p, g, *s, coefficients) for p, g, s in zip(params, grads, slots)
        ]
        for p, s, new in zip(params, slots, results):
            for target, value in zip((p, *s), new):
                np.copyto(target, value, casting="same_kind")
