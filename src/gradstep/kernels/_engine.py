"""The interface every engine implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from .clip import Clipping

__all__ = ["Engine"]


class Engine(Protocol):
    """Runs one optimizer step: clipping, then the rule on every element, in place."""

    name: str

    def allocate_slots(
        self, params: Sequence[np.ndarray], count: int
    ) -> list[tuple[np.ndarray, ...]]:
        """``count`` zero arrays per parameter, with the parameter's shape and dtype."""
        ...

    def squares(self, grads: Sequence[np.ndarray]) -> list[float]:
        """Each gradient's float64 sum of squares, as ``step`` sums it for clipnorm: the
        global norm is the square root of these added in order (``clip.total``)."""
        ...

    def step(
        self,
        rule: Callable[..., tuple[Any, ...]],
        coefficients: NamedTuple,
        params: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        slots: Sequence[tuple[np.ndarray, ...]],
        clipping: Clipping,
    ) -> None:
        """Clip ``grads`` as ``clipping`` says (global norm, then values) and apply
        ``rule`` to every element, writing parameters and slots in place. ``grads`` are
        never modified."""
        ...
